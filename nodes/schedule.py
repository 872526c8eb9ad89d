"""Soft Mask Schedule: the three parameters of the per-step blend."""

from comfy_api.latest import io

from ..core import SoftInpaintSettings
from .pack_types import SIGMA_SPACES, SoftMaskScheduleType, SoftSchedule
from .schema import node_schema, parameter_input


class SoftMaskSchedule(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftMaskSchedule",
            search_aliases=("mask schedule", "soft mask"),
            display_name="Soft Mask Schedule",
            category="inpaint/soft inpainting",
            description="How strongly the original is kept at each denoising step where the mask is partial "
            "(A1111's soft inpainting). Connect to the Soft Latent Blend KSampler or Soft Inpaint Model Patch.",
            inputs=[
                parameter_input("schedule_bias"),
                parameter_input("preservation_strength"),
                parameter_input("transition_contrast_boost"),
                io.Combo.Input(
                    "sigma_space", options=list(SIGMA_SPACES), default="sd", optional=True,
                    tooltip="sd: read each model's noise level as the equivalent SD sigma (flow models such as "
                    "SD3 and Flux: sigma/(1-sigma)), so one schedule suits every model. raw: the model's own "
                    "sigma, exactly as A1111 (meant for SD-style models).",
                ),
            ],
            outputs=[SoftMaskScheduleType.Output(display_name="schedule")],
        )

    @classmethod
    def execute(cls, schedule_bias, preservation_strength, transition_contrast_boost,
                sigma_space="sd") -> io.NodeOutput:
        settings = SoftInpaintSettings(
            schedule_bias=schedule_bias,
            preservation_strength=preservation_strength,
            transition_contrast_boost=transition_contrast_boost,
        )
        return io.NodeOutput(SoftSchedule(settings, sigma_space))
