//! The harness behind every store conformance suite: one list of cases, run
//! against the embedded store always and against MongoDB when one can be had
//! (`MONGO_URI`, else a `mongo:7` container when a Docker engine answers).
//! When neither exists the MongoDB trials are reported as *ignored* with the
//! reason printed, so the test summary counts them as skipped: they never
//! pass by pretending.
//!
//! Suites are `harness = false` test targets built on `libtest-mimic`, so
//! `cargo test` / `cargo nextest` filters and output work as usual.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where MongoDB trials run, if anywhere.
pub enum MongoTarget {
    Available {
        uri: String,
        /// Keeps a testcontainers container alive for the run.
        _container: Option<Box<dyn std::any::Any + Send>>,
    },
    Unavailable(String),
}

/// `MONGO_URI` wins; otherwise try Docker through testcontainers.
pub fn mongo_target(rt: &tokio::runtime::Runtime) -> MongoTarget {
    if let Ok(uri) = std::env::var("MONGO_URI")
        && !uri.trim().is_empty()
    {
        return MongoTarget::Available {
            uri,
            _container: None,
        };
    }
    if !docker_answers() {
        return MongoTarget::Unavailable(
            "MONGO_URI is not set and no Docker engine answers (testcontainers cannot start mongo:7)"
                .into(),
        );
    }
    use testcontainers_modules::mongo::Mongo;
    use testcontainers_modules::testcontainers::runners::AsyncRunner;
    match rt.block_on(async {
        let c = Mongo::default().start().await?;
        let port = c.get_host_port_ipv4(27017).await?;
        let host = c.get_host().await?;
        Ok::<_, testcontainers_modules::testcontainers::TestcontainersError>((c, host, port))
    }) {
        Ok((c, host, port)) => MongoTarget::Available {
            uri: format!("mongodb://{host}:{port}"),
            _container: Some(Box::new(c)),
        },
        Err(e) => {
            MongoTarget::Unavailable(format!("Docker answered but mongo:7 did not start: {e}"))
        }
    }
}

fn docker_answers() -> bool {
    if std::env::var_os("DOCKER_HOST").is_some() {
        return true;
    }
    std::os::unix::net::UnixStream::connect("/var/run/docker.sock").is_ok()
}

/// One backend under test: builds a fresh, empty store for each case.
pub struct Backend<S: ?Sized> {
    pub name: &'static str,
    pub make: Arc<dyn Fn() -> BoxFuture<'static, anyhow_like::Result<Arc<S>>> + Send + Sync>,
}

/// A named case of a suite.
pub type Case<S> = (&'static str, fn(Arc<S>) -> BoxFuture<'static, ()>);

/// Builds one trial per (backend, case); `skipped` backends become ignored
/// trials. Each trial gets a fresh store and its own runtime so a panic in one
/// case never poisons another.
pub fn trials<S: ?Sized + Send + Sync + 'static>(
    backends: Vec<Backend<S>>,
    skipped: Vec<(&'static str, String)>,
    cases: &[Case<S>],
) -> Vec<Trial> {
    let mut out = Vec::new();
    for backend in &backends {
        for &(case, f) in cases {
            let make = backend.make.clone();
            out.push(Trial::test(
                format!("{}::{case}", backend.name),
                move || {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .map_err(|e| Failed::from(e.to_string()))?;
                    rt.block_on(async move {
                        let store = make().await.map_err(Failed::from)?;
                        f(store).await;
                        Ok(())
                    })
                },
            ));
        }
    }
    for (name, reason) in &skipped {
        eprintln!("SKIPPED {name} conformance trials: {reason}");
        for &(case, _) in cases {
            out.push(Trial::test(format!("{name}::{case}"), || Ok(())).with_ignored_flag(true));
        }
    }
    out
}

/// Runs the trials and exits with libtest's status.
pub fn run(trials: Vec<Trial>) -> ! {
    let mut args = Arguments::from_args();
    // Ignored trials are the skipped backend; running them would pretend.
    args.include_ignored = false;
    args.ignored = false;
    libtest_mimic::run(&args, trials).exit()
}

/// A boxed error type so backends can report any failure as text.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}
