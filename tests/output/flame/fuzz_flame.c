/* fuzz_flame.c - libFuzzer target over the folded reader and the three
 * writers (tests/output/flame/run.sh builds and runs it briefly).
 *
 * The input is read as folded lines (bad lines are skipped, as a reader
 * would report them), also added frame by frame through flame_add_stack,
 * and then every output must hold:
 *   - the folded output reads back without an error, as the same profile
 *     (writing it again gives the same bytes);
 *   - the SVG and the speedscope JSON are valid UTF-8 with no control
 *     character but newline and tab, and the SVG has no '<' or '&' that
 *     its own markup did not put there (every name is escaped).
 * A violation aborts, which libFuzzer reports as a crash. */
#include "formats/flame.h"

#include <stdlib.h>
#include <string.h>

static char *write_to_memory(FlameProfile *p, FlameFormat f, size_t *len) {
  char *buf = NULL;
  FILE *m = open_memstream(&buf, len);
  FlameOptions o = FLAME_OPTIONS_DEFAULT;
  o.title = "fuzz <&>";
  if (!m || flame_write(p, f, &o, m) < 0)
    abort();
  fclose(m);
  return buf;
}

static void read_folded(FlameProfile *p, const char *text, size_t len, bool must_parse) {
  for (const char *at = text; at < text + len;) {
    const char *nl = memchr(at, '\n', text + len - at);
    size_t n = nl ? (size_t)(nl - at) : (size_t)(text + len - at);
    FlameError err;
    if (flame_add_folded(p, at, n, &err) < 0 && must_parse) {
      fprintf(stderr, "own folded output rejected: %s: %.*s\n", err.msg, (int)n, at);
      abort();
    }
    at += n + 1;
  }
}

/* Valid UTF-8, no control characters but '\n' and '\t'. */
static void check_text(const char *what, const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    unsigned c = s[i];
    int n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (!n || i + n > len || (c < 0x20 && c != '\n' && c != '\t')) {
      fprintf(stderr, "%s: bad byte 0x%02x at %zu\n", what, c, i);
      abort();
    }
    for (int k = 1; k < n; k++)
      if ((s[i + k] & 0xc0) != 0x80) {
        fprintf(stderr, "%s: broken UTF-8 at %zu\n", what, i);
        abort();
      }
    i += n;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  FlameProfile *p = flame_new();
  read_folded(p, text, size, false);
  /* the same bytes as frames: each line split at ';', count 1 */
  char *copy = malloc(size + 1);
  memcpy(copy, data, size);
  copy[size] = '\0';
  for (char *line = copy, *next; line && line < copy + size; line = next) {
    next = memchr(line, '\n', copy + size - line);
    if (next)
      *next++ = '\0';
    const char *frames[16];
    int n = 0;
    for (char *f = line; f && n < 16; n++) {
      frames[n] = f;
      f = strchr(f, ';');
      if (f)
        *f++ = '\0';
    }
    flame_add_stack(p, frames, n, 1);
  }
  free(copy);

  size_t len1, len2, len;
  char *out1 = write_to_memory(p, FLAME_FOLDED, &len1);
  FlameProfile *q = flame_new();
  read_folded(q, out1, len1, true);
  char *out2 = write_to_memory(q, FLAME_FOLDED, &len2);
  if (len1 != len2 || memcmp(out1, out2, len1)) {
    fprintf(stderr, "folded output does not read back as the same profile\n");
    abort();
  }
  free(out1);
  free(out2);
  flame_free(q);

  char *svg = write_to_memory(p, FLAME_SVG, &len);
  check_text("svg", (unsigned char *)svg, len);
  /* between the header and the script every '<' starts our own markup */
  char *body = strstr(svg, "<g id=\"frames\">"), *end = strstr(svg, "<script");
  for (char *c = body; c && c < end; c++)
    if (*c == '<' && strncmp(c, "<g ", 3) && strncmp(c, "</g>", 4) && strncmp(c, "<title>", 7) &&
        strncmp(c, "</title>", 8) && strncmp(c, "<rect ", 6) && strncmp(c, "<text ", 6) &&
        strncmp(c, "</text>", 7)) {
      fprintf(stderr, "svg: unescaped '<' at %zu: %.40s\n", (size_t)(c - svg), c);
      abort();
    }
  free(svg);
  char *json = write_to_memory(p, FLAME_SPEEDSCOPE, &len);
  check_text("speedscope", (unsigned char *)json, len);
  free(json);
  flame_free(p);
  return 0;
}
