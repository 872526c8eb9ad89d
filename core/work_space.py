"""Work space kept between calls, one per thread: on the CPU, a fresh large allocation costs a page fault
per 4 KiB on first touch, often more than all the arithmetic done in it."""

import threading

_KEPT = threading.local()


def kept(name: str, fits, make):
    """This thread's work space `name`, if `fits(it)`; else `make()`, kept in its place."""
    space = getattr(_KEPT, name, None)
    if space is None or not fits(space):
        space = make()
        setattr(_KEPT, name, space)
    return space
