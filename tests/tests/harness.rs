//! The test files run by `dbrev_tests::main!` (`harness = false` in `tests/Cargo.toml`)
//! run every test they hold: no `#[test]` attribute (it would be compiled out without a
//! word) and every `backend_test!` listed in the file's `main!`.

use std::path::Path;

/// The `[[test]]` targets of `tests/Cargo.toml` with `harness = false`.
fn custom_harness_files() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("tests/Cargo.toml");
    let mut names = Vec::new();
    for target in manifest.split("[[test]]").skip(1) {
        let body = target.split("\n[").next().unwrap_or_default();
        let field = |key: &str| {
            body.lines()
                .find_map(|l| l.trim().strip_prefix(key)?.trim().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_owned())
        };
        if field("harness").as_deref() == Some("false") {
            names.push(field("name").expect("[[test]] name"));
        }
    }
    names
}

#[test]
fn every_test_of_a_main_file_is_run() {
    let files = custom_harness_files();
    assert!(!files.is_empty(), "no harness = false test target found");
    for name in files {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&path).expect("test file");
        let shown = path.display();
        assert!(
            !text.contains("#[test]"),
            "{shown}: #[test] is compiled out under harness = false; list the function in main!"
        );
        let (tests, main) = text
            .split_once("dbrev_tests::main!")
            .unwrap_or_else(|| panic!("{shown}: no dbrev_tests::main! at the end"));
        let listed = main
            .split_once("plain:")
            .map_or(main, |(backend, _)| backend);
        // `backend_test!(name, |db| ..)`, the name on the macro's line or the next.
        for (at, _) in tests.match_indices("\nbackend_test!(") {
            let rest = tests[at + "\nbackend_test!(".len()..].trim_start();
            let test: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(
                !test.is_empty()
                    && listed
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|word| word == test),
                "{shown}: backend_test!({test}, …) is not listed in main!'s backend list"
            );
        }
    }
}
