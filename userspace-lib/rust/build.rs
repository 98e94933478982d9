// SPDX-License-Identifier: (GPL-2.0 OR MIT)
//
// Links the static libirqroute.a that `make lib` builds. IRQROUTE_LIB_DIR
// names its folder; the default is the repository's build/lib.

use std::env;
use std::path::PathBuf;

fn main() {
    let dir = match env::var_os("IRQROUTE_LIB_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
            manifest.join("../../build/lib")
        }
    };
    let lib = dir.join("libirqroute.a");
    if !lib.exists() {
        // Loud: a missing library must not turn into a confusing link error.
        panic!(
            "no {}: run `make lib` at the top of the repository or set IRQROUTE_LIB_DIR",
            lib.display()
        );
    }
    println!("cargo:rerun-if-env-changed=IRQROUTE_LIB_DIR");
    println!("cargo:rerun-if-changed={}", lib.display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=irqroute");
}
