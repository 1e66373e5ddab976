//! Compiles every `.proto` once, with a vendored `protoc` so no system
//! install is needed, and emits the descriptor set that servers publish
//! through gRPC reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing reads the env concurrently.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let include = protoc_bin_vendored::include_path()?;
    let include = include
        .to_str()
        .ok_or("protoc include path is not UTF-8")?
        .to_owned();
    let includes = ["proto", include.as_str()];
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let files = [
        "proto/chat/auth/v1/auth.proto",
        "proto/chat/message/v1/message.proto",
        "proto/chat/message/v1/rooms.proto",
        "proto/chat/media/v1/media.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("chat_descriptor.bin"))
        .compile_protos(&files, &includes)?;
    Ok(())
}
