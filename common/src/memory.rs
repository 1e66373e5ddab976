//! The allocator every binary of the workspace uses, and the setting they
//! apply at start-up.

/// mimalloc rather than glibc's malloc: allocating and freeing were about
/// 18 % of the one-process server's instructions under the fan-out load
/// (many small, short-lived blocks per event: frames, JSON values, gRPC
/// messages). With mimalloc a send costs 10 % fewer instructions in all
/// (bench/README.md § Instruction counts) and an idle socket slightly less
/// memory. Declared here, in the crate every binary links, so that it is
/// one choice for all of them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mimalloc.h` (the Rust binding
/// does not name it); the test below checks it is still that option.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once. By default mimalloc v3
/// waits a second and only purges when the thread that freed allocates
/// again: the
/// 19 MiB an Argon2 hash works in then stays resident in the idle blocking
/// threads that hashed, 60 MB after a hundred registrations (measured in
/// `chat` with `MIMALLOC_PURGE_DELAY` unset: 32 MB with glibc, 95 MB with
/// mimalloc, 58 MB with the purge at once).
pub fn return_large_blocks_to_the_system() {
    // SAFETY: sets one of mimalloc's options, which it allows at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing in this test binary sets the option, so it holds mimalloc
    /// v3's default purge delay, 1000 (ms, `src/options.c`); the options
    /// next to it in the enum default to 1 and 0.
    #[test]
    fn option_15_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("skipped: MIMALLOC_PURGE_DELAY is set");
            return;
        }
        // SAFETY: reads one of mimalloc's options, allowed at any time.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 1000);
    }
}
