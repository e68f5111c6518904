# `cargo TOOL …`: cargo's completion hands the words after `cargo TOOL` to the function
# above, as if `cargo-TOOL` had been typed; anything else goes to the completion cargo had.
_dbrev_cargo_TOOL() {
    if [[ ${COMP_WORDS[1]-} == TOOL ]] && (( COMP_CWORD >= 2 )); then
        local COMP_WORDS=("cargo-TOOL" "${COMP_WORDS[@]:2}")
        local COMP_CWORD=$(( COMP_CWORD - 1 ))
        _clap_complete_cargo_TOOL "cargo-TOOL" "${2-}" "${3-}"
        return
    fi
    if [[ -n ${_dbrev_cargo_TOOL_fallback-} ]]; then
        "$_dbrev_cargo_TOOL_fallback" "$@"
    fi
}
_dbrev_register_cargo_TOOL() {
    # Sourced again: already in the chain of cargo's completion functions.
    [[ -n ${_dbrev_cargo_TOOL_registered-} ]] && return
    _dbrev_cargo_TOOL_registered=1
    local spec
    spec=$(complete -p cargo 2>/dev/null)
    if [[ -z $spec ]] && declare -F _completion_loader >/dev/null; then
        _completion_loader cargo >/dev/null 2>&1
        spec=$(complete -p cargo 2>/dev/null)
    fi
    local pattern='-F ([^ ]+)'
    if [[ $spec =~ $pattern ]]; then
        local previous=${BASH_REMATCH[1]}
        _dbrev_cargo_TOOL_fallback=$previous
        eval "${spec/"-F $previous"/-F _dbrev_cargo_TOOL}"
    else
        complete -o bashdefault -o default -F _dbrev_cargo_TOOL cargo
    fi
}
_dbrev_register_cargo_TOOL
unset -f _dbrev_register_cargo_TOOL
