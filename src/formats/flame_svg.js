// flame_svg.js - the script embedded in etrace's flame-graph SVG
// (flame_svg.c writes it inside a CDATA section at the end of the file, so
// every element below already exists when it runs).
//
// The SVG root carries the layout: data-total (samples of the whole graph),
// data-pad (left margin), data-plotw (width of the frames area), data-charw
// (width of one label character) and data-unit (what a count measures).
// Each frame is <g class="f" data-o=OFFSET data-n=COUNT data-d=DEPTH>
// holding <title>NAME (COUNT UNIT, PCT%)</title>, <rect> and <text>; OFFSET
// is the number of samples to the left of the frame at its depth.
'use strict';
(function () {
  var svg = document.documentElement;
  var total = +svg.getAttribute('data-total');
  var pad = +svg.getAttribute('data-pad');
  var plotw = +svg.getAttribute('data-plotw');
  var charw = +svg.getAttribute('data-charw');
  var unit = svg.getAttribute('data-unit');
  var frames = Array.prototype.slice.call(document.querySelectorAll('g.f'));
  var details = document.getElementById('details');
  var matched = document.getElementById('matched');
  var unzoomBtn = document.getElementById('unzoom');
  var searchBtn = document.getElementById('search');
  var zoomed = null;   // the frame zoomed into, or null
  var searching = false;

  function num(g, a) { return +g.getAttribute(a); }

  // The frame's name: its title without the " (COUNT UNIT, PCT%)" tail.
  function nameOf(g) {
    if (g.flameName === undefined) {
      var t = g.querySelector('title').textContent;
      var cut = t.lastIndexOf(' (');
      g.flameName = cut >= 0 ? t.slice(0, cut) : t;
    }
    return g.flameName;
  }

  // Draw g at x..x+w and fit its label.
  function place(g, x, w) {
    var r = g.querySelector('rect'), t = g.querySelector('text');
    r.setAttribute('x', x.toFixed(3));
    r.setAttribute('width', w.toFixed(3));
    t.setAttribute('x', (x + 3).toFixed(3));
    var name = nameOf(g), fit = Math.floor((w - 6) / charw);
    t.textContent = fit >= name.length ? name : fit >= 3 ? name.slice(0, fit - 2) + '..' : '';
  }

  function show(g, on) { g.classList.toggle('h', !on); }

  // Zoom into frame z: it and its descendants span the whole width, its
  // ancestors stay (faded) at full width, everything else is hidden.
  function zoom(z) {
    var zo = num(z, 'data-o'), zn = num(z, 'data-n'), zd = num(z, 'data-d');
    zoomed = z;
    frames.forEach(function (g) {
      var o = num(g, 'data-o'), n = num(g, 'data-n'), d = num(g, 'data-d');
      g.classList.remove('a');
      if (d < zd) {
        var above = o <= zo && o + n >= zo + zn;
        show(g, above);
        if (above) {
          g.classList.add('a');
          place(g, pad, plotw);
        }
      } else if (o >= zo && o + n <= zo + zn) {
        show(g, true);
        place(g, pad + (o - zo) / zn * plotw, n / zn * plotw);
      } else {
        show(g, false);
      }
    });
    unzoomBtn.classList.toggle('hidden', zd === 0);
  }

  function unzoom() {
    zoomed = null;
    frames.forEach(function (g) {
      g.classList.remove('a');
      show(g, true);
      place(g, pad + num(g, 'data-o') / total * plotw, num(g, 'data-n') / total * plotw);
    });
    unzoomBtn.classList.add('hidden');
  }

  // Highlight the frames whose name matches the regular expression and
  // show the share of all samples they cover (nested matches counted once).
  function search(term) {
    var re;
    try {
      re = new RegExp(term);
    } catch (e) {
      matched.textContent = 'Bad regular expression: ' + term;
      return;
    }
    var spans = [];
    frames.forEach(function (g) {
      var hit = re.test(nameOf(g));
      g.classList.toggle('m', hit);
      if (hit)
        spans.push([num(g, 'data-o'), num(g, 'data-o') + num(g, 'data-n')]);
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, end = -1;
    spans.forEach(function (s) {
      if (s[0] >= end) {
        covered += s[1] - s[0];
        end = s[1];
      } else if (s[1] > end) {
        covered += s[1] - end;
        end = s[1];
      }
    });
    searching = true;
    searchBtn.textContent = 'Reset search';
    matched.textContent = 'Matched: ' + (total ? covered / total * 100 : 0).toFixed(1) + '% (' +
      spans.length + (spans.length === 1 ? ' frame)' : ' frames)');
  }

  function resetSearch() {
    frames.forEach(function (g) { g.classList.remove('m'); });
    searching = false;
    searchBtn.textContent = 'Search';
    matched.textContent = '';
  }

  function askSearch() {
    var term = window.prompt('Search frames (regular expression):', '');
    if (term)
      search(term);
  }

  frames.forEach(function (g) {
    g.addEventListener('click', function () { zoom(g); });
    g.addEventListener('mouseover', function () {
      details.textContent = g.querySelector('title').textContent;
    });
    g.addEventListener('mouseout', function () { details.textContent = ''; });
  });
  unzoomBtn.addEventListener('click', unzoom);
  searchBtn.addEventListener('click', function () {
    if (searching)
      resetSearch();
    else
      askSearch();
  });
  window.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') {
      e.preventDefault();
      askSearch();
    } else if (e.key === 'Escape') {
      unzoom();
      resetSearch();
    }
  });

  // For scripts driving the page (and the tests): the same actions.
  window.flame = {
    zoom: zoom, unzoom: unzoom, search: search, resetSearch: resetSearch,
    zoomed: function () { return zoomed; }, unit: unit,
  };
})();
