/* flame_svg.c - the interactive flame-graph SVG: one file, nothing
 * fetched (the style and the script, src/out/flame_svg.js, are embedded).
 *
 * Layout: the root ("all") spans the bottom row, each frame sits on its
 * caller with a width proportional to its count; siblings are in name
 * order, so the x axis is not time.  Frames narrower than
 * min_width_pct of the whole are not drawn (nor their callees): their
 * samples stay in the caller's width, and a note gives their number.
 * Labels are cut to the frame's width here and again by the script after
 * a zoom; a monospace font makes a character CHAR_W pixels wide.
 *
 * Colours are a hash of the frame name, so a function has the same colour
 * in every graph: warm (red to yellow) for user frames, aqua for kernel
 * frames (names ending in "_[k]"); blue and purple for off-CPU graphs.
 */
#include "formats/flame.h"

#include <inttypes.h>
#include <string.h>

#include "flame_svg_js.h" /* build/gen: static const char flame_svg_js[] */

#define PAD 10           /* left and right margins */
#define FRAME_H 16       /* row height; rects are one pixel shorter */
#define FONT_PX 12
#define CHAR_W 7.2       /* monospace 12 px: 0.6 em per character */
#define TOP_H 40         /* title row and controls */
#define SUBTITLE_H 18
#define BOTTOM_H 44      /* details line, legend and the elision note */

typedef struct Svg {
  FILE *out;
  const FlameOptions *o;
  uint64_t total;
  double plotw, min_n;  /* min_n: counts below this are elided */
  int top, max_depth;   /* deepest row drawn */
  uint64_t elided_frames, elided_samples;
} Svg;

/* ------------------------------------------------------------ colours */

static uint32_t name_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static double absd(double v) { return v < 0 ? -v : v; }

/* h in [0, 360), s and l in [0, 1]. */
static void hsl_to_rgb(double h, double s, double l, int rgb[3]) {
  double c = (1 - absd(2 * l - 1)) * s;
  double hp = h / 60, hmod2 = hp - 2 * (int)(hp / 2);
  double x = c * (1 - absd(hmod2 - 1));
  double r = 0, g = 0, b = 0;
  switch ((int)hp % 6) {
  case 0: r = c, g = x; break;
  case 1: r = x, g = c; break;
  case 2: g = c, b = x; break;
  case 3: g = x, b = c; break;
  case 4: r = x, b = c; break;
  default: r = c, b = x; break;
  }
  double m = l - c / 2;
  rgb[0] = (int)((r + m) * 255 + 0.5);
  rgb[1] = (int)((g + m) * 255 + 0.5);
  rgb[2] = (int)((b + m) * 255 + 0.5);
}

/* The fill of a frame: hue, saturation and lightness from three slices
 * of the name's hash, inside the palette's hue range. */
static void frame_colour(const char *name, bool root, bool off_cpu, int rgb[3]) {
  if (root) {
    rgb[0] = rgb[1] = rgb[2] = 200;
    return;
  }
  uint32_t h = name_hash(name);
  double v1 = (h & 0x3ff) / 1023.0, v2 = (h >> 10 & 0x3ff) / 1023.0, v3 = (h >> 20 & 0x3ff) / 1023.0;
  bool k = flame_is_kernel(name);
  double lo, span;
  if (!off_cpu)
    lo = k ? 165 : 0, span = k ? 30 : 55;   /* aqua | red..yellow */
  else
    lo = k ? 265 : 200, span = k ? 30 : 40; /* purple | blue */
  hsl_to_rgb(lo + span * v1, 0.65 + 0.3 * v2, 0.55 + 0.12 * v3, rgb);
}

/* ------------------------------------------------------------ text */

static const char *unit_word(FlameUnit u, uint64_t n) {
  switch (u) {
  case FLAME_NANOSECONDS: return "ns";
  case FLAME_MICROSECONDS: return "us";
  default: return n == 1 ? "sample" : "samples";
  }
}

static void put_thousands(FILE *out, uint64_t n) {
  char d[32];
  int len = snprintf(d, sizeof d, "%" PRIu64, n);
  for (int i = 0; i < len; i++) {
    if (i && (len - i) % 3 == 0)
      fputc(',', out);
    fputc(d[i], out);
  }
}

/* "NAME (1,234 samples, 5.67%)": the frame's title; the script takes the
 * name back as everything before the last " (". */
static void put_title(Svg *s, const FlameNode *n) {
  flame_put_xml(s->out, n->name);
  fputs(" (", s->out);
  put_thousands(s->out, n->total);
  fprintf(s->out, " %s, %.2f%%)", unit_word(s->o->unit, n->total),
          s->total ? 100.0 * n->total / s->total : 0.0);
}

/* The label of a frame w pixels wide: the name, or its start and "..",
 * or nothing. */
static void put_label(Svg *s, const char *name, double w) {
  int fit = (int)((w - 6) / CHAR_W);
  size_t len = strlen(name);
  if (fit >= (int)len) {
    flame_put_xml(s->out, name);
    return;
  }
  if (fit < 3)
    return;
  char buf[512];
  size_t keep = (size_t)fit - 2 < sizeof buf - 3 ? (size_t)fit - 2 : sizeof buf - 3;
  while (keep && ((unsigned char)name[keep] & 0xc0) == 0x80) /* not inside a UTF-8 sequence */
    keep--;
  memcpy(buf, name, keep);
  memcpy(buf + keep, "..", 3);
  flame_put_xml(s->out, buf);
}

/* ------------------------------------------------------------ frames */

static void count_elided(Svg *s, const FlameNode *n) {
  s->elided_frames++;
  for (int i = 0; i < n->nkids; i++)
    count_elided(s, n->kids[i]);
}

/* The deepest row that will be drawn. */
static void measure(Svg *s, const FlameNode *n) {
  if (n->depth > s->max_depth)
    s->max_depth = n->depth;
  for (int i = 0; i < n->nkids; i++)
    if (n->kids[i]->total >= s->min_n)
      measure(s, n->kids[i]);
}

static void draw(Svg *s, const FlameNode *n, uint64_t offset) {
  double x = PAD + (s->total ? (double)offset / s->total * s->plotw : 0);
  double w = s->total ? (double)n->total / s->total * s->plotw : s->plotw;
  double y = s->top + (double)(s->max_depth - n->depth) * FRAME_H;
  int rgb[3];
  frame_colour(n->name, n->depth == 0, s->o->off_cpu, rgb);
  fprintf(s->out, "<g class=\"f%s\" data-o=\"%" PRIu64 "\" data-n=\"%" PRIu64 "\" data-d=\"%d\"><title>",
          n->depth && flame_is_kernel(n->name) ? " k" : "", offset, n->total, n->depth);
  put_title(s, n);
  fprintf(s->out,
          "</title><rect x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%d\" rx=\"2\" "
          "fill=\"rgb(%d,%d,%d)\"/><text x=\"%.3f\" y=\"%.1f\">",
          x, y, w, FRAME_H - 1, rgb[0], rgb[1], rgb[2], x + 3, y + FRAME_H - 4.5);
  put_label(s, n->name, w);
  fputs("</text></g>\n", s->out);
  uint64_t at = offset;
  for (int i = 0; i < n->nkids; i++) {
    const FlameNode *k = n->kids[i];
    if (k->total < s->min_n) {
      count_elided(s, k);
      s->elided_samples += k->total;
    } else {
      draw(s, k, at);
    }
    at += k->total;
  }
}

/* ------------------------------------------------------------ document */

static const char style[] =
    "text { font-family: monospace; font-size: 12px; fill: #000; }\n"
    "#title { font-size: 17px; text-anchor: middle; }\n"
    "#subtitle { fill: #555; text-anchor: middle; }\n"
    "#matched { text-anchor: end; }\n"
    ".f { cursor: pointer; }\n"
    ".f text { pointer-events: none; }\n"
    ".f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
    ".f.h { display: none; }\n"
    ".f.a rect { opacity: 0.5; }\n"
    ".f.m rect { fill: rgb(225,0,225); }\n"
    ".btn { cursor: pointer; fill: #336; text-decoration: underline; }\n"
    ".hidden { display: none; }\n";

void flame_write_svg(FlameProfile *p, const FlameOptions *opt, FILE *out) {
  FlameOptions defaults = FLAME_OPTIONS_DEFAULT;
  const FlameOptions *o = opt ? opt : &defaults;
  const FlameNode *root = flame_root(p);
  int width = o->width >= 200 ? o->width : 200;
  Svg s = {.out = out, .o = o, .total = root->total, .plotw = width - 2 * PAD};
  s.min_n = o->min_width_pct > 0 ? o->min_width_pct / 100.0 * root->total : 0;
  if (s.min_n < 1)
    s.min_n = 1; /* never draw a frame with no samples */
  measure(&s, root);
  s.top = TOP_H + (o->subtitle ? SUBTITLE_H : 0);
  int height = s.top + (s.max_depth + 1) * FRAME_H + BOTTOM_H;
  const char *title = o->title ? o->title : "Flame Graph";

  fprintf(out,
          "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
          "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
          "viewBox=\"0 0 %d %d\" data-total=\"%" PRIu64 "\" data-pad=\"%d\" data-plotw=\"%.0f\" "
          "data-charw=\"%.1f\" data-unit=\"%s\">\n",
          width, height, width, height, root->total, PAD, s.plotw, CHAR_W,
          unit_word(o->unit, 2));
  fputs("<!-- Written by etrace " "flamegraph. Click a frame to zoom into it, 'Reset zoom' "
        "(or Escape) to zoom out; 'Search' (or Ctrl-F) highlights the frames matching a "
        "regular expression. -->\n",
        out);
  fprintf(out, "<defs><linearGradient id=\"bg\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
               "<stop offset=\"5%%\" stop-color=\"%s\"/><stop offset=\"95%%\" stop-color=\"%s\"/>"
               "</linearGradient></defs>\n",
          o->off_cpu ? "#f0f0f8" : "#f0f0f0", o->off_cpu ? "#d8d8f0" : "#f0e8c8");
  fprintf(out, "<style type=\"text/css\"><![CDATA[\n%s]]></style>\n", style);
  fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"url(#bg)\"/>\n", width, height);
  fprintf(out, "<text id=\"title\" x=\"%d\" y=\"24\">", width / 2);
  flame_put_xml(out, title);
  fputs("</text>\n", out);
  if (o->subtitle) {
    fprintf(out, "<text id=\"subtitle\" x=\"%d\" y=\"%d\">", width / 2, 24 + SUBTITLE_H);
    flame_put_xml(out, o->subtitle);
    fputs("</text>\n", out);
  }
  fprintf(out, "<text id=\"unzoom\" class=\"btn hidden\" x=\"%d\" y=\"24\">Reset zoom</text>\n", PAD);
  fprintf(out, "<text id=\"search\" class=\"btn\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>\n",
          width - PAD);

  fputs("<g id=\"frames\">\n", out);
  draw(&s, root, 0);
  fputs("</g>\n", out);

  int details_y = height - BOTTOM_H + 18, note_y = height - 8;
  fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", PAD, details_y);
  fprintf(out, "<text id=\"matched\" x=\"%d\" y=\"%d\"></text>\n", width - PAD, details_y);
  /* legend: one swatch per palette */
  int rgb[3];
  frame_colour("user", false, o->off_cpu, rgb);
  fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"rgb(%d,%d,%d)\"/>"
               "<text x=\"%d\" y=\"%d\">user</text>\n",
          PAD, note_y - 9, rgb[0], rgb[1], rgb[2], PAD + 14, note_y);
  frame_colour("kernel" FLAME_KERNEL_SUFFIX, false, o->off_cpu, rgb);
  fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"rgb(%d,%d,%d)\"/>"
               "<text x=\"%d\" y=\"%d\">kernel (" FLAME_KERNEL_SUFFIX ")</text>\n",
          PAD + 60, note_y - 9, rgb[0], rgb[1], rgb[2], PAD + 74, note_y);
  fprintf(out, "<text id=\"elided\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", width - PAD, note_y);
  if (s.elided_frames) {
    put_thousands(out, s.elided_frames);
    fprintf(out, " frame%s narrower than %g%% not drawn (", s.elided_frames == 1 ? "" : "s",
            o->min_width_pct);
    put_thousands(out, s.elided_samples);
    fprintf(out, " %s)", unit_word(o->unit, s.elided_samples));
  }
  fputs("</text>\n", out);
  fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n</svg>\n", flame_svg_js);
}
