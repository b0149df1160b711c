#!/bin/sh
# Emit a text file as a C string constant: embed-text.sh NAME FILE.
# The flame-graph SVG embeds its script this way (src/formats/flame_svg.js),
# inside a CDATA section, so the text must not contain "]]>".
name=$1 file=$2
if grep -q ']]>' "$file"; then
  echo "$0: $file contains ']]>', which would end the CDATA section" >&2
  exit 1
fi
echo "/* generated from $file by scripts/embed-text.sh */"
echo "static const char $name[] ="
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' -e 's/$/\\n"/' "$file"
echo "  ;"
