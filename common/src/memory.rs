//! Allocator settings every binary applies at start-up, before any thread
//! exists (glibc reads them when it creates an arena).

/// Two glibc malloc settings, each found by the benchmark:
///
/// - **Large blocks go back to the system.** glibc raises its mmap
///   threshold to the largest block freed so far (up to 32 MiB). After the
///   first Argon2 hash (19 MiB of working memory) or a large upload buffer,
///   every later such block is carved from the malloc arenas and stays
///   resident once freed: ~600 MB after 100 registrations. Pinning the
///   threshold at glibc's default (128 KiB) keeps large blocks on mmap, so
///   freeing them gives the memory back.
/// - **A bounded number of arenas.** glibc gives a thread that finds its
///   arena locked a new one, up to 8 per core, and an arena keeps what it
///   once held. Tokio's blocking pool starts and retires threads all day,
///   so under churn new arenas keep appearing and each settles at its own
///   high-water mark: the 20-minute soak grew in steps of ~10 MiB long after
///   warm-up. [`ARENAS_PER_CORE`] per core bounds that; the allocation
///   paths stay short enough that the extra lock contention did not show in
///   the instruction counts or the fan-out figures.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn configure_allocator() {
    // SAFETY: mallopt only sets allocator parameters and is thread-safe.
    if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) } != 1 {
        tracing::warn!("could not pin glibc's mmap threshold");
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let arenas = i32::try_from(cores * ARENAS_PER_CORE).unwrap_or(i32::MAX);
    // SAFETY: as above.
    if unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) } != 1 {
        tracing::warn!("could not bound glibc's malloc arenas");
    }
}

/// glibc's own default is 8.
pub const ARENAS_PER_CORE: usize = 1;

/// Other allocators return large blocks and bound their arenas on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn configure_allocator() {}
