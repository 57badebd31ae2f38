/* Charts of the clinician pages. Their data comes from JSON blocks the server embeds. */
(function () {
  "use strict";

  const annotation = window["chartjs-plugin-annotation"];
  if (annotation) {
    Chart.register(annotation);
  }
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

  const STATUS_COLORS = {
    improved: "#1a7f37",
    unchanged: "#8c959f",
    worsened: "#cf222e",
    none: "#57606a",
  };

  function embedded(id) {
    const block = document.getElementById(id);
    return block ? JSON.parse(block.textContent) : null;
  }

  const data = embedded("chart-data") || embedded("cohort-data") || { names: {} };

  function words(text) {
    if (data.names[text]) {
      return data.names[text];
    }
    const plain = String(text || "").replace(/_/g, " ");
    return plain.charAt(0).toUpperCase() + plain.slice(1);
  }

  function zoneAnnotations(chart) {
    const found = {};
    const zones = chart.zones || {};
    if (zones.no_important_change) {
      found.mic = {
        type: "box",
        yMin: zones.no_important_change[0],
        yMax: zones.no_important_change[1],
        backgroundColor: "rgba(84, 174, 255, 0.18)",
        borderWidth: 0,
        drawTime: "beforeDatasetsDraw",
      };
    }
    if (zones.measurement_error) {
      found.error = {
        type: "box",
        yMin: zones.measurement_error[0],
        yMax: zones.measurement_error[1],
        backgroundColor: "rgba(0, 0, 0, 0)",
        borderColor: "rgba(154, 103, 0, 0.9)",
        borderWidth: 1.5,
        borderDash: [6, 4],
        drawTime: "beforeDatasetsDraw",
      };
    }
    if (chart.baseline !== null) {
      found.baseline = {
        type: "line",
        yMin: chart.baseline,
        yMax: chart.baseline,
        borderColor: "#0969da",
        borderWidth: 2,
      };
    }
    chart.treatments.forEach(function (treatment, index) {
      found["treatment" + index] = {
        type: "line",
        xMin: treatment.x,
        xMax: treatment.x,
        borderColor: "#6639ba",
        borderWidth: 2,
        label: {
          display: true,
          content: words(treatment.kind),
          position: "start",
          backgroundColor: "rgba(102, 57, 186, 0.85)",
          font: { size: 11 },
        },
      };
    });
    return found;
  }

  function axisEnd(chart, xs) {
    // Up to the first protocol time point at or after the latest data, so early weeks stay wide.
    const last = Math.max.apply(null, xs);
    const next = chart.time_points.find((point) => point.x >= last);
    return (next ? next.x : last) + 7;
  }

  function patientChart(canvas, chart) {
    const xs = chart.points.map((point) => point.x).concat(chart.treatments.map((t) => t.x), [0]);
    const end = axisEnd(chart, xs);
    const ticks = chart.time_points.filter((point) => point.x > 0 && point.x <= end);
    const labels = {};
    ticks.forEach(function (point) {
      labels[point.x] = point.label;
    });
    const band = (name) => chart.reference.map((point) => ({ x: point.x, y: point[name] }));
    const reference = chart.reference.length
      ? [
          { label: "P90", data: band("p90"), fill: false },
          { label: "P10", data: band("p10"), fill: "-1", backgroundColor: "rgba(140, 149, 159, 0.15)" },
          { label: "P75", data: band("p75"), fill: false },
          { label: "P25", data: band("p25"), fill: "-1", backgroundColor: "rgba(140, 149, 159, 0.3)" },
        ].map((dataset) => Object.assign(dataset, { showLine: true, pointRadius: 0, borderWidth: 0 }))
      : [];
    return new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: reference.concat([
          {
            label: words(chart.score_name),
            data: chart.points.map((point) => ({ x: point.x, y: point.y })),
            showLine: true,
            borderColor: "#24292f",
            backgroundColor: "#24292f",
            pointRadius: 3,
            borderWidth: 1.5,
          },
        ]),
      },
      options: {
        plugins: { legend: { display: false }, annotation: { annotations: zoneAnnotations(chart) } },
        scales: {
          x: {
            type: "linear",
            min: Math.min.apply(null, xs.concat([-30])),
            max: end,
            title: { display: true, text: "Days from treatment (protocol time points on the axis)" },
            afterBuildTicks: function (axis) {
              axis.ticks = [{ value: 0 }].concat(ticks.map((point) => ({ value: point.x })));
            },
            ticks: {
              autoSkip: false,
              maxRotation: 0,
              callback: (value) => labels[value] || value,
            },
            grid: { color: "rgba(0, 0, 0, 0.08)" },
          },
          y: {
            min: chart.y_min,
            max: chart.y_max,
            title: { display: true, text: words(chart.score_name) },
          },
        },
      },
    });
  }

  function waterfallChart(canvas, rows) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map((row) => "Patient " + row.patient_id + ", treatment " + row.treatment_id),
        datasets: [
          {
            label: "% change from baseline",
            data: rows.map((row) => (row.pct_change === null ? 0 : row.pct_change)),
            backgroundColor: rows.map((row) => STATUS_COLORS[row.status || "none"]),
            categoryPercentage: 1.0,
            barPercentage: 0.9,
          },
        ],
      },
      options: {
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { display: false }, grid: { display: false }, title: { display: true, text: "Patients and treatments, ordered by change" } },
          y: { title: { display: true, text: "% change from baseline" } },
        },
      },
    });
  }

  function ratesChart(canvas, groups) {
    const labels = groups.map((group) => (group.group ? words(group.group) : "All"));
    const percent = (value) => (value === null ? null : 100 * value);
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          {
            label: "Responder rate (%)",
            data: groups.map((group) => percent(group.responder_rate.value)),
            backgroundColor: "rgba(26, 127, 55, 0.7)",
          },
          {
            label: "95% Wilson interval",
            data: groups.map((group) => [percent(group.responder_rate.ci_low), percent(group.responder_rate.ci_high)]),
            backgroundColor: "rgba(36, 41, 47, 0.35)",
            barPercentage: 0.15,
            grouped: false,
          },
        ],
      },
      options: {
        indexAxis: "y",
        scales: { x: { min: 0, max: 100, title: { display: true, text: "% of patients improved" } } },
      },
    });
  }

  const SERIES_COLORS = ["#0969da", "#1a7f37", "#9a6700", "#cf222e", "#8250df", "#bf3989", "#57606a"];

  function survivalChart(canvas, groups) {
    const datasets = [];
    groups.forEach(function (group, index) {
      const color = SERIES_COLORS[index % SERIES_COLORS.length];
      const start = { x: 0, y: 100 };
      const percent = (value) => (value === null ? null : 100 * value);
      const curve = [start].concat(group.curve.map((step) => ({ x: step.days, y: percent(step.survival) })));
      const bound = (name) => [start].concat(group.curve.map((step) => ({ x: step.days, y: percent(step[name]) })));
      datasets.push(
        { label: words(group.treatment_kind), data: curve, borderColor: color, backgroundColor: color, stepped: true, pointRadius: 0, borderWidth: 2 },
        { label: "", data: bound("ci_high"), stepped: true, pointRadius: 0, borderWidth: 0, fill: false },
        { label: "", data: bound("ci_low"), stepped: true, pointRadius: 0, borderWidth: 0, fill: "-1", backgroundColor: color + "22" }
      );
    });
    return new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        parsing: false,
        spanGaps: true,
        plugins: { legend: { labels: { filter: (item) => item.text !== "" } } },
        scales: {
          x: { type: "linear", min: 0, title: { display: true, text: "Days from treatment" } },
          y: { min: 0, max: 100, title: { display: true, text: "% surgery-free" } },
        },
      },
    });
  }

  function trajectoriesChart(canvas, lines) {
    return new Chart(canvas, {
      type: "line",
      data: {
        datasets: lines.map((line) => ({
          label: "Patient " + line.patient_id,
          data: line.points.map((point) => ({ x: point.x, y: point.y })),
          borderColor: "rgba(9, 105, 218, 0.3)",
          borderWidth: 1,
          pointRadius: 0,
        })),
      },
      options: {
        parsing: false,
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: {
          x: { type: "linear", title: { display: true, text: "Days from treatment" } },
          y: { title: { display: true, text: "Score" } },
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    patientChart(canvas, data.charts[Number(canvas.dataset.chart)]);
  });
  const draw = { waterfall: waterfallChart, rates: ratesChart, trajectories: trajectoriesChart, survival: survivalChart };
  const source = { waterfall: "waterfall", rates: "groups", trajectories: "trajectories", survival: "survival" };
  document.querySelectorAll("canvas[data-cohort]").forEach(function (canvas) {
    const name = canvas.dataset.cohort;
    draw[name](canvas, data[source[name]]);
  });
})();
