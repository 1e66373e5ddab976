//! Allocator settings every binary applies at start-up.

/// glibc raises its mmap threshold to the largest block freed so far (up to
/// 32 MiB). After the first Argon2 hash (19 MiB of working memory) or a large
/// upload buffer, every later such block is carved from the malloc arenas
/// and stays resident once freed: ~600 MB after 100 registrations in the
/// benchmark. Pinning the threshold at glibc's default (128 KiB) keeps large
/// blocks on mmap, so freeing them gives the memory back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_large_blocks_to_the_system() {
    // SAFETY: mallopt only sets an allocator parameter and is thread-safe.
    if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) } != 1 {
        tracing::warn!("could not pin glibc's mmap threshold");
    }
}

/// Other allocators return large blocks on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_large_blocks_to_the_system() {}
