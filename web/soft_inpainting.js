// Soft Inpainting: a live chart inside the "Soft Mask Schedule" node.
//
// For each sampling step of a typical run (20 steps of SD1.5's Karras schedule) it shows how much of the
// ORIGINAL latent the blend keeps where the mask is partial: 1 - opacity ** (sigma ** schedule_bias *
// preservation_strength), the formula of core/latent_blend.py's modified_nmask, for mask opacities
// 0.25, 0.5 and 0.75 (opacity 1 = fully inpainted).
//
// The chart is a canvas widget (an object with draw/computeSize, added with addCustomWidget), so the
// node's own layout places it below the real widgets and grows the node to fit it; the same object is
// drawn by the frontend's "legacy widget" canvas in the Nodes 2.0 (Vue) mode and the properties panel.
// It recomputes the curves from the current widget values on every draw, so it is always live; the
// wrapped widget callbacks only ask for a redraw at once. The last curves and texts drawn are kept on
// node.softInpaintCurve and node.softInpaintChartText (read by tests/comfyui/test_browser.py).
//
// The chart's texts are in the user's language where the frontend can translate them: ComfyUI serves the
// pack's locales/<lang>/main.json (softInpainting.chart) to the frontend, whose vue-i18n the extension
// reaches through the $t and $te the frontend's Vue app offers every component. Without them, English.
//
// Uses the frontend's window.comfyAPI (ComfyUI frontend >= 1.35), not the deprecated "scripts/app.js".

const { app } = window.comfyAPI.app;

const NODE_ID = "SoftMaskSchedule";
const CHART_WIDGET = "soft_inpaint_chart";
// Every widget of the node redraws the chart, though only the first two change the curves: the boost
// acts on the blend's magnitude, and sigma_space is the same for SD1.5's sigmas.
const WATCHED = ["schedule_bias", "preservation_strength", "transition_contrast_boost", "sigma_space"];
const OPACITIES = [
  { opacity: 0.25, color: "#4aa8ff" },
  { opacity: 0.5, color: "#ffb020" },
  { opacity: 0.75, color: "#ff4f7b" },
];
const STEPS = 20;
const MARGIN = 15; // the side margin of the frontend's own widgets
const CHART_HEIGHT = 160;

// k-diffusion's Karras schedule with SD1.5's sigma range, plus the final sigma 0. Point i of a curve is
// the blend at step i (0-based) at sigmas[i]; the last point, sigma 0, is the end of sampling.
function karrasSigmas(steps, sigmaMin = 0.0292, sigmaMax = 14.6146, rho = 7) {
  const maxRoot = sigmaMax ** (1 / rho);
  const minRoot = sigmaMin ** (1 / rho);
  const sigmas = [];
  for (let i = 0; i < steps; i++) sigmas.push((maxRoot + (i / (steps - 1)) * (minRoot - maxRoot)) ** rho);
  sigmas.push(0);
  return sigmas;
}

const SIGMAS = karrasSigmas(STEPS);

// Share of the original kept at noise level sigma. JS gives 0 ** 0 === 1, as torch does: at sigma 0
// (or a zero strength) the exponent is 0, opacity ** 0 is 1 and nothing of the original is kept.
function keptOriginal(opacity, sigma, bias, strength) {
  return 1 - opacity ** (sigma ** bias * strength);
}

function frontendI18n() {
  const properties = document.getElementById("vue-app")?.__vue_app__?.config?.globalProperties;
  return typeof properties?.$t === "function" && typeof properties?.$te === "function" ? properties : null;
}

// The chart text `key` (softInpainting.chart.<key> in locales/) in the frontend's language; `english` when
// the frontend cannot tell (no translation function, no such message, or one it cannot format).
function chartText(key, english, values = {}) {
  const i18n = frontendI18n();
  const path = `softInpainting.chart.${key}`;
  try {
    if (i18n?.$te(path)) return i18n.$t(path, values);
  } catch {
    // keep English
  }
  return english;
}

// `text` cut to fit `width` on the canvas, with an ellipsis.
function fitted(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let end = text.length;
  while (end > 0 && ctx.measureText(`${text.slice(0, end)}…`).width > width) end--;
  return end > 0 ? `${text.slice(0, end)}…` : "";
}

function widgetValue(node, name) {
  return node.widgets?.find((w) => w.name === name)?.value;
}

// Palette colours can be CSS tokens rather than colours; fall back when the canvas cannot use them.
function paletteColor(value, fallback) {
  return typeof value === "string" && CSS.supports("color", value) ? value : fallback;
}

function computeCurves(bias, strength) {
  return OPACITIES.map(({ opacity, color }) => ({
    opacity,
    color,
    points: SIGMAS.map((sigma, step) => [step, keptOriginal(opacity, sigma, bias, strength)]),
  }));
}

function drawChart(ctx, node, width, y, height, lowQuality) {
  const bias = Number(widgetValue(node, "schedule_bias"));
  const strength = Number(widgetValue(node, "preservation_strength"));
  const LG = window.LiteGraph;
  const text = paletteColor(LG?.WIDGET_SECONDARY_TEXT_COLOR, "#999");

  const box = { x: MARGIN, y: y + 2, w: width - 2 * MARGIN, h: height - 8 };
  // Room for the title and legend above, the axis labels to the left and below.
  const plot = { x: box.x + 26, y: box.y + 22, w: box.w - 34, h: box.h - 40 };

  ctx.save();
  ctx.fillStyle = paletteColor(LG?.WIDGET_BGCOLOR, "#222");
  ctx.strokeStyle = paletteColor(LG?.WIDGET_OUTLINE_COLOR, "#666");
  ctx.beginPath();
  ctx.roundRect(box.x, box.y, box.w, box.h, 6);
  ctx.fill();
  ctx.stroke();
  if (plot.w < 20 || plot.h < 20) return ctx.restore();

  const px = (step) => plot.x + (step / STEPS) * plot.w;
  const py = (kept) => plot.y + (1 - kept) * plot.h;

  // Axes and the 0.5 grid line.
  ctx.strokeStyle = text;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(plot.x, plot.y);
  ctx.lineTo(plot.x, plot.y + plot.h);
  ctx.lineTo(plot.x + plot.w, plot.y + plot.h);
  ctx.stroke();
  ctx.globalAlpha = 0.3;
  ctx.beginPath();
  ctx.moveTo(plot.x, py(0.5));
  ctx.lineTo(plot.x + plot.w, py(0.5));
  ctx.moveTo(plot.x, py(1));
  ctx.lineTo(plot.x + plot.w, py(1));
  ctx.stroke();
  ctx.globalAlpha = 1;

  if (!Number.isFinite(bias) || !Number.isFinite(strength)) {
    node.softInpaintCurve = null;
    return ctx.restore();
  }
  const curves = computeCurves(bias, strength);
  node.softInpaintCurve = curves;

  ctx.lineWidth = 2;
  for (const { color, points } of curves) {
    ctx.strokeStyle = color;
    ctx.beginPath();
    points.forEach(([step, kept], i) => (i ? ctx.lineTo(px(step), py(kept)) : ctx.moveTo(px(step), py(kept))));
    ctx.stroke();
  }

  if (!lowQuality) {
    // Zoomed far out the frontend skips widget text; so does the chart.
    ctx.font = "10px Arial";
    ctx.fillStyle = text;
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    ctx.fillText("1", plot.x - 4, py(1));
    ctx.fillText("0.5", plot.x - 4, py(0.5));
    ctx.fillText("0", plot.x - 4, py(0));
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const texts = {
      title: chartText("title", "original kept at mask"),
      axis: chartText("axis", `step (SD1.5 Karras, ${STEPS})`, { steps: STEPS }),
    };
    node.softInpaintChartText = texts;
    ctx.fillText("0", px(0), plot.y + plot.h + 3);
    ctx.fillText(texts.axis, px(STEPS / 2), plot.y + plot.h + 3);
    ctx.fillText(String(STEPS), px(STEPS), plot.y + plot.h + 3);
    ctx.textBaseline = "middle";
    // Legend: one swatch and label per mask opacity, right-aligned on the title line.
    let lx = box.x + box.w - 6;
    ctx.textAlign = "right";
    for (const { opacity, color } of [...OPACITIES].reverse()) {
      const label = `${opacity * 100}%`;
      ctx.fillStyle = text;
      ctx.fillText(label, lx, box.y + 10);
      lx -= ctx.measureText(label).width + 3;
      ctx.fillStyle = color;
      ctx.fillRect(lx - 10, box.y + 9, 10, 3);
      lx -= 16;
    }
    // The title takes what the legend leaves of the line.
    ctx.fillStyle = text;
    ctx.textAlign = "left";
    ctx.fillText(fitted(ctx, texts.title, lx - box.x - 10), box.x + 6, box.y + 10);
  }
  ctx.restore();
}

function addChart(node) {
  const chart = node.addCustomWidget({
    name: CHART_WIDGET,
    label: chartText("label", "original kept per step"),
    type: "soft_inpaint_chart",
    value: null,
    // Display only: stays out of the saved widgets_values and out of the prompt sent to the server.
    serialize: false,
    options: { serialize: false },
    // The height passed in is the default widget row's; the chart always has its own.
    draw(ctx, n, width, y, _height, lowQuality) {
      drawChart(ctx, n, width, y, CHART_HEIGHT, lowQuality);
    },
    computeSize(width) {
      return [width ?? 0, CHART_HEIGHT];
    },
  });

  for (const name of WATCHED) {
    const widget = node.widgets?.find((w) => w.name === name);
    if (!widget) continue;
    const callback = widget.callback;
    widget.callback = function (...args) {
      const result = callback?.apply(this, args);
      node.setDirtyCanvas(true, false);
      chart.triggerDraw?.(); // set by the Nodes 2.0 legacy-widget canvas, which only redraws on request
      return result;
    };
  }

  // A new node was sized before the chart existed: make room for it.
  const [width, height] = node.computeSize();
  node.setSize([Math.max(node.size[0], width), Math.max(node.size[1], height)]);
}

app.registerExtension({
  name: "soft-inpainting.SoftMaskScheduleChart",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_ID) return;
    const onNodeCreated = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function (...args) {
      const result = onNodeCreated?.apply(this, args);
      addChart(this);
      return result;
    };
  },
});
