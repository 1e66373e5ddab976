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

/// The MongoDB image tag every suite runs against (compose uses `mongo:7`).
pub const MONGO_TAG: &str = "7";

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
    use testcontainers_modules::testcontainers::ImageExt;
    use testcontainers_modules::testcontainers::runners::AsyncRunner;
    match rt.block_on(async {
        // Pinned: the module's default tag is not necessarily the `mongo:7`
        // the docs and compose promise.
        let c = Mongo::default().with_tag(MONGO_TAG).start().await?;
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

/// Runs the trials and returns libtest's conclusion; the caller cleans up
/// (drops its databases, stops its container by dropping it) and then
/// calls `.exit()`, since exiting here would skip every destructor.
pub fn run(trials: Vec<Trial>) -> libtest_mimic::Conclusion {
    let mut args = Arguments::from_args();
    // Ignored trials are the skipped backend; running them would pretend.
    args.include_ignored = false;
    args.ignored = false;
    libtest_mimic::run(&args, trials)
}

/// The MongoDB databases a suite created, to drop once its trials ran.
#[derive(Clone, Default)]
pub struct Databases(Arc<std::sync::Mutex<Vec<String>>>);

impl Databases {
    /// A fresh database name, remembered for [`Databases::drop_all`].
    pub fn fresh(&self, prefix: &str) -> String {
        let name = format!(
            "{prefix}_{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let mut names = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let name = format!("{name}_{}", names.len());
        names.push(name.clone());
        name
    }

    /// Drops every database handed out; failures are reported, not fatal.
    pub fn drop_all(&self, rt: &tokio::runtime::Runtime, uri: &str) {
        let names = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        if names.is_empty() {
            return;
        }
        let res = rt.block_on(async {
            let client = mongodb::Client::with_uri_str(uri).await?;
            for name in &names {
                client.database(name).drop().await?;
            }
            Ok::<_, mongodb::error::Error>(())
        });
        if let Err(e) = res {
            eprintln!("could not drop the test databases {names:?}: {e}");
        }
    }
}

/// A boxed error type so backends can report any failure as text.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}
