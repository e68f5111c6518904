# `cargo TOOL …`: completed as if `cargo-TOOL` had been typed.
function __dbrev_cargo_runs --argument-names tool
    set -l tokens (commandline --current-process --tokenize --cut-at-cursor)
    test (count $tokens) -ge 2; and test "$tokens[2]" = "$tool"
end
function __dbrev_cargo_complete --argument-names tool
    set -l tokens (commandline --current-process --tokenize --cut-at-cursor)
    set -e tokens[1..2]
    VAR=fish cargo-$tool -- cargo-$tool $tokens (commandline --current-token)
end
complete --keep-order --exclusive --command cargo --condition '__dbrev_cargo_runs TOOL' --arguments '(__dbrev_cargo_complete TOOL)'
