# bash completion for etrace
