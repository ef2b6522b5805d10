// Draws the watch page's health-factor chart with uPlot from the data the server put on
// #hf-chart (data-chart): times in unix seconds, health factors (null = no debt), and the
// watch's threshold lines. Without JavaScript the figure's caption still says what it shows.
(function () {
  'use strict';
  var element = document.getElementById('hf-chart');
  if (!element || typeof uPlot === 'undefined') return;
  var data = JSON.parse(element.getAttribute('data-chart'));
  if (data.times.length === 0) return;

  var lines = data.lines;
  var flat = function (value) {
    return data.times.map(function () { return value; });
  };
  var known = data.healthFactors.filter(function (value) { return value !== null; });
  var highest = known.length ? Math.max.apply(null, known) : lines.warning;
  var lowest = known.length ? Math.min.apply(null, known) : 1;
  // Keep every line in view; a very safe position does not squash the lines into the floor.
  var top = Math.min(Math.max(highest * 1.05, lines.warning * 1.2), Math.max(lines.warning * 3, lowest * 1.5));
  var bottom = Math.max(0, Math.min(lowest * 0.95, 0.9));

  function size() {
    var width = Math.max(280, element.clientWidth || 600);
    return { width: width, height: width < 500 ? 220 : 300 };
  }

  var options = Object.assign(size(), {
    scales: { x: { time: true }, y: { range: [bottom, top] } },
    axes: [{}, { label: 'health factor', size: 60 }],
    series: [
      {},
      { label: 'Health factor', stroke: '#1d4ed8', width: 2, points: { show: data.times.length < 60 } },
      { label: 'Warning ' + lines.warning, stroke: '#ca8a04', width: 1, dash: [6, 4], points: { show: false } },
      { label: 'Margin call ' + lines.marginCall, stroke: '#ea580c', width: 1, dash: [6, 4], points: { show: false } },
      { label: 'Critical ' + lines.critical, stroke: '#dc2626', width: 1, dash: [6, 4], points: { show: false } },
      { label: 'Liquidation 1.0', stroke: '#7f1d1d', width: 2, points: { show: false } },
    ],
  });
  var plot = new uPlot(options, [data.times, data.healthFactors, flat(lines.warning), flat(lines.marginCall), flat(lines.critical), flat(lines.liquidation)], element);
  element.setAttribute('data-drawn', 'true');
  window.addEventListener('resize', function () {
    plot.setSize(size());
  });
})();
