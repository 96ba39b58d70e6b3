// The portal's charts: one small helper over the vendored uPlot (static/vendor/uPlot-*.js), so
// every page draws its lines the same way (loss curves now; precision-recall curves, mAP against
// bits and embedding plots later). PortalCharts.lineChart(element, options) returns a chart whose
// update(xs, columns, names) redraws it; it follows its element's width.
window.PortalCharts = (() => {
  // The same palette, in the same order, as retrieval/training/presenters.py LOSS_COLOURS.
  const COLOURS = ["#3e63dd", "#e5484d", "#30a46c", "#f76b15", "#8e4ec6", "#12a594", "#d6409f", "#6f6e77"];
  const colour = (i) => COLOURS[i % COLOURS.length];

  // options: xLabel, yLabel, height (px), xMax() (the x axis reaches at least this far, so a
  // curve grows into a fixed frame), yFromZero (the y axis starts at 0 unless data go below).
  function lineChart(element, options = {}) {
    const height = options.height || 260;
    const width = () => Math.max(240, element.clientWidth || 240);
    let plot = null;
    let names = [];

    function build(seriesNames) {
      if (plot) plot.destroy();
      names = seriesNames;
      plot = new uPlot({
        width: width(), height,
        scales: {
          x: { time: false, range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(max ?? 1, (options.xMax && options.xMax()) || 1, 1)] },
          y: { range: (u, min, max) => {
            const low = options.yFromZero === false ? (min ?? 0) : Math.min(0, min ?? 0);
            return [low, Math.max((max ?? 1) * 1.05, low + 1e-6)];
          } },
        },
        axes: [{ label: options.xLabel || "", size: 40 }, { label: options.yLabel || "", size: 56 }],
        series: [{ label: options.xLabel || "x" },
          ...names.map((name, i) => ({ label: name, stroke: colour(i), width: 1.5, spanGaps: true, points: { show: false } }))],
        cursor: { drag: { x: false, y: false } },
        legend: { live: false },  // names and colours only: the table below gives the values
      }, [[], ...names.map(() => [])], element);
    }

    if (window.ResizeObserver) {
      new ResizeObserver(() => { if (plot) plot.setSize({ width: width(), height }); }).observe(element);
    }
    return {
      update(xs, columns, seriesNames) {
        if (!plot || names.join("\u0000") !== seriesNames.join("\u0000")) build(seriesNames);
        plot.setData([xs, ...columns]);
        element.dataset.points = String(xs.length);
      },
    };
  }

  return { lineChart, colour, available: () => typeof window.uPlot === "function" };
})();
