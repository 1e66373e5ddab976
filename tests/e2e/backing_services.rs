//! The distributed layout on real backing services, each trial run only when
//! what it needs can be had; otherwise it is reported as ignored with the
//! reason printed, never passed:
//!
//! - `redis::…`   two gateways sharing rooms through Redis (`REDIS_URL`, else
//!   a throw-away local `redis-server`);
//! - `mongo_uri::…` the services on the MongoDB at `MONGO_URI`;
//! - `docker::…`  MongoDB, MinIO and Redis containers (testcontainers) with
//!   two gateways, when a Docker engine answers.
//!
//! Runs the built binaries, so build them first:
//! `cargo build --workspace --bins && cargo test -p chat-e2e`.

use chat_e2e::backing::{Containers, LocalRedis, docker_answers, env_var, object_count};
use chat_e2e::flow::{self, PASSWORD};
use chat_e2e::stack::{Backing, Distributed};
use chat_e2e::{api, unique};
use libtest_mimic::{Arguments, Failed, Trial};

type Scenario = fn() -> anyhow::Result<()>;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Alice on one gateway, bob on the other: every event crosses Redis.
async fn two_gateways(backing: &Backing) -> anyhow::Result<()> {
    let stack = Distributed::start(backing, 2).await?;
    let (one, two) = (&stack.gateways[0], &stack.gateways[1]);
    let outcome = async {
        let conv = flow::converse(one, two).await?;
        flow::history_survives(two, &conv).await?;
        let carol = api::register(two, &unique("carol"), PASSWORD).await?;
        flow::avatar_roundtrip(two, one, &carol).await?;
        if let Some(s3) = &backing.s3 {
            anyhow::ensure!(
                object_count(s3).await? > 0,
                "the upload never reached the bucket"
            );
        }
        Ok(())
    }
    .await;
    stack.report(outcome)
}

fn redis_two_gateways() -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match env_var("REDIS_URL") {
            Some(url) => {
                two_gateways(&Backing {
                    redis_url: Some(url),
                    ..Backing::default()
                })
                .await
            }
            None => {
                let redis = LocalRedis::start().await?;
                two_gateways(&Backing {
                    redis_url: Some(redis.url.clone()),
                    ..Backing::default()
                })
                .await
            }
        }
    })
}

fn mongo_uri_services() -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let uri = env_var("MONGO_URI").ok_or_else(|| anyhow::anyhow!("MONGO_URI vanished"))?;
        let backing = Backing {
            mongo_uri: Some(uri),
            ..Backing::default()
        };
        let stack = Distributed::start(&backing, 1).await?;
        let base = &stack.gateways[0];
        let outcome = async {
            let conv = flow::converse(base, base).await?;
            flow::history_survives(base, &conv).await
        }
        .await;
        stack.report(outcome)
    })
}

fn docker_stack() -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let containers = Containers::start().await?;
        two_gateways(&containers.backing).await
    })
}

fn trial(name: &str, needs: Result<(), String>, run: Scenario) -> Trial {
    match needs {
        Ok(()) => Trial::test(name, move || {
            run().map_err(|e| Failed::from(format!("{e:#}")))
        }),
        Err(reason) => {
            eprintln!("SKIPPED {name}: {reason}");
            Trial::test(name, || Ok(())).with_ignored_flag(true)
        }
    }
}

fn main() {
    let redis_needs = match env_var("REDIS_URL") {
        Some(_) => Ok(()),
        None => LocalRedis::available(),
    };
    let mongo_needs = env_var("MONGO_URI")
        .map(drop)
        .ok_or_else(|| "MONGO_URI is not set".to_string());
    let trials = vec![
        trial(
            "redis::two_gateways_share_rooms",
            redis_needs,
            redis_two_gateways,
        ),
        trial(
            "mongo_uri::services_on_mongodb",
            mongo_needs,
            mongo_uri_services,
        ),
        trial(
            "docker::mongo_minio_redis_two_gateways",
            docker_answers(),
            docker_stack,
        ),
    ];
    let mut args = Arguments::from_args();
    // An ignored trial is one whose backing service is missing: running it
    // anyway could only fail for that reason, so --ignored does not apply.
    args.include_ignored = false;
    args.ignored = false;
    libtest_mimic::run(&args, trials).exit()
}
