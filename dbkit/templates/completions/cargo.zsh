
# `cargo TOOL …`: cargo's zsh completion calls `_cargo-TOOL` for an external subcommand,
# with `TOOL` as the first word; it is completed as if `cargo-TOOL` had been typed.
_cargo-TOOL() {
    words[1]=cargo-TOOL
    _clap_dynamic_completer_cargo_TOOL
}
