# perf-collapse.awk: `perf script` output (samples with call chains) to
# folded stacks, "comm;outermost;...;leaf COUNT", one line per distinct
# stack.  Kernel frames ([kernel.kallsyms]) get the "_[k]" suffix.  Only
# for the tests: it gives them a folded file from a real profiled run.
function flush(   s, i) {
  if (comm == "")
    return
  s = comm
  for (i = n; i >= 1; i--)
    s = s ";" frame[i]
  count[s]++
  comm = ""
  n = 0
}
/^[^ \t]/ {              # sample header: "comm pid time: period event:"
  flush()
  comm = $1
  next
}
/^[ \t]+[0-9a-f]+ / {   # frame: "addr symbol+0xoff (dso)", leaf first
  sym = $2
  sub(/\+0x[0-9a-f]+$/, "", sym)
  gsub(/;/, ":", sym)
  if ($NF == "([kernel.kallsyms])")
    sym = sym "_[k]"
  frame[++n] = sym
  next
}
/^[ \t]*$/ { flush() }
END {
  flush()
  for (s in count)
    print s, count[s]
}
