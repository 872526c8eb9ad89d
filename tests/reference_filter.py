"""A deliberately plain, per-pixel version of the weighted percentile filter, written from its description.

Used by the tests to check the vectorised filter, and by the benchmarks as the slow baseline.
"""


def reference_filter(img, kernel, center, percentile_min, percentile_max, min_width):
    """img, kernel: nested lists or 2-D arrays of numbers; center: the kernel's centre, one index for both
    axes or a (row, column) pair. Returns a list of rows of floats."""
    height, width = len(img), len(img[0])
    k_height, k_width = len(kernel), len(kernel[0])
    center_y, center_x = center if isinstance(center, tuple) else (center, center)
    out = []
    for y in range(height):
        row = []
        for x in range(width):
            stack = []
            for i in range(k_height):
                for j in range(k_width):
                    yy, xx = y - center_y + i, x - center_x + j
                    if 0 <= yy < height and 0 <= xx < width:
                        stack.append((float(img[yy][xx]), float(kernel[i][j])))
            stack.sort(key=lambda item: item[0])
            row.append(_band_average(stack, percentile_min, percentile_max, min_width))
        out.append(row)
    return out


def _band_average(stack, percentile_min, percentile_max, min_width):
    total = sum(weight for _, weight in stack)
    low, high = total * percentile_min, total * percentile_max
    if high - low < min_width:
        middle = (low + high) / 2
        low, high = middle - min_width / 2, middle + min_width / 2
        if high > total:
            low, high = total - min_width, total
        if low < 0:
            low, high = 0.0, min_width
    value_sum = weight_sum = 0.0
    bottom = 0.0
    for value, weight in stack:
        top = bottom + weight
        overlap = min(high, top) - max(low, bottom)
        if overlap > 0:
            value_sum += value * overlap
            weight_sum += overlap
        bottom = top
    return value_sum / weight_sum if weight_sum else 0.0
