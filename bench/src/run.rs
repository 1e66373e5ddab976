//! Runs the chosen scenarios against each system in turn.

use std::time::Duration;

use crate::cli::{Args, Scenario};
use crate::dial::Dialer;
use crate::error::Error;
use crate::report::{self, SystemResult};
use crate::scenario::rooms::{self, Plan};
use crate::scenario::{idle, soak, storm};
use crate::system::{self, Server};
use crate::{chart, soak_chart, users};

/// The whole bench; `Ok(false)` when something failed (see [`crate::main`]).
pub async fn all(args: Args, nofile: u64) -> Result<bool, Error> {
    let chat = system::chat_binary(&args).ok();
    eprintln!(
        "chat-bench: open-file limit {nofile}; ours = {}",
        chat.as_ref()
            .map_or("?".into(), |p| p.display().to_string())
    );
    eprintln!(
        "chat-bench: ours runs with {} (the reference has no rate limiter)",
        system::raised_limits()
    );
    if args.durable_floors {
        eprintln!(
            "chat-bench: --durable-floors: the floors commit each send to SQLite before answering"
        );
    }
    let mut results = Vec::new();
    for &kind in &args.systems {
        eprintln!("chat-bench: === {} ===", kind.name());
        let server = Server::start(kind, &args).await?;
        let result = one_system(&server, &args).await;
        let logs = server.logs.clone();
        server.stop().await;
        match result {
            Ok(r) => results.push(r),
            Err(e) => {
                return Err(Error::Server(format!(
                    "{}: {e} (server logs: {})",
                    kind.name(),
                    logs.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(&args.out_dir)?;
    let chart_path = args.out_dir.join("ramp.svg");
    if args.scenarios.contains(&Scenario::Ramp) {
        std::fs::write(&chart_path, chart::ramp_svg(&results, args.ramp_p99_ms))?;
    }
    let soak_chart = args.out_dir.join("soak.svg");
    if args.scenarios.contains(&Scenario::Soak) {
        std::fs::write(&soak_chart, soak_chart::rss_svg(&results))?;
    }
    let summary = report::summarise(&args, &results);
    print!("{}", report::table(&summary));
    let json_path = args.out_dir.join("results.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&report::json(&args, &results, &summary))?,
    )?;
    println!("results: {}", json_path.display());
    if args.scenarios.contains(&Scenario::Ramp) {
        println!("chart:   {}", chart_path.display());
    }
    if args.scenarios.contains(&Scenario::Soak) {
        println!("chart:   {}", soak_chart.display());
    }
    for failure in &summary.failures {
        println!("FAILED: {failure}");
    }
    let ok = summary.failures.is_empty() && (!args.require_targets || summary.missed_targets == 0);
    println!(
        "chat-bench: {} ({} failure(s), {} target(s) missed)",
        if ok { "PASS" } else { "FAIL" },
        summary.failures.len(),
        summary.missed_targets
    );
    Ok(ok)
}

async fn one_system(server: &Server, args: &Args) -> Result<SystemResult, Error> {
    let count = args.users.max(args.users_per_room);
    let tokens = users::register(server.addr, count).await?;
    let dialer = Dialer::new(server.addr, args.source_ips, tokens)?;
    let mut result = SystemResult::new(server.kind);
    for scenario in &args.scenarios {
        match scenario {
            Scenario::Idle => {
                let r = idle::run(
                    &dialer,
                    args.idle_connections,
                    args.connect_concurrency,
                    Duration::from_secs(args.idle_hold_secs),
                    idle::Probes {
                        rss_kib: || server.rss_kib(),
                        cpu_secs: || server.cpu_secs(),
                    },
                )
                .await?;
                eprintln!(
                    "  idle: {} held, {:.1} KiB/connection ({:.1} KiB marginal), {:.1}% of a core while held; quiet {:.1} s after they left; generator up to {:.0} ms late",
                    r.held,
                    r.kib_per_connection,
                    r.marginal_kib_per_connection,
                    r.hold_cpu_percent,
                    r.teardown_secs,
                    r.generator_lag_ms
                );
                result.idle = Some(r);
            }
            Scenario::Storm => {
                server.start_counting()?;
                let mut r =
                    storm::run(&dialer, args.storm_connections, args.storm_concurrency).await;
                r.server_instructions = server.stop_counting()?;
                eprintln!(
                    "  storm: {:.0} handshakes/s ({} failed)",
                    r.handshakes_per_sec, r.failed
                );
                if let Some(ir) = r.server_instructions {
                    eprintln!("  storm: {ir} instructions for {} handshakes", r.ok);
                }
                result.storm = Some(r);
            }
            Scenario::Fanout => {
                let total = args.rate * (args.rooms * args.users_per_room) as f64;
                let plan = plan(args, "fanout", vec![total], args.duration_secs, None);
                let r = rooms::run(&dialer, &plan, server).await?;
                if let Some(s) = r.steps.first() {
                    eprintln!(
                        "  fan-out: {:.0} delivered/s, p99 {:.1} ms, {} missing",
                        s.delivered_per_sec, s.latency.p99_ms, r.history.missing
                    );
                    if let Some(ir) = r.server_instructions {
                        eprintln!(
                            "  fan-out: {ir} instructions for {} sends and {} deliveries",
                            r.sent, r.delivered
                        );
                    }
                }
                result.fanout = Some(r);
            }
            Scenario::Ramp => {
                let plan = plan(
                    args,
                    "ramp",
                    ramp_steps(args),
                    args.ramp_step_secs,
                    Some((args.ramp_p99_ms, args.ramp_stop_p99_ms)),
                );
                let r = rooms::run(&dialer, &plan, server).await?;
                let best = r
                    .steps
                    .iter()
                    .filter(|s| s.held)
                    .map(|s| s.sent_per_sec)
                    .fold(0.0, f64::max);
                eprintln!("  ramp: highest held {best:.0} msgs/s sent");
                result.ramp = Some(r);
            }
            Scenario::Soak => {
                let plan = soak::Plan {
                    secs: args.soak_secs,
                    clients: args.soak_clients,
                    sample_secs: args.soak_sample_secs,
                    max_growth_kib: args.soak_max_growth_mib * 1024,
                    tag: format!("{}", std::process::id()),
                };
                let r = soak::run(&dialer, &plan, || server.rss_kib()).await?;
                eprintln!(
                    "  soak: {} cycles, {} acked, {} errors; RSS {} → {} KiB ({:+} KiB)",
                    r.cycles, r.messages_acked, r.errors, r.settled_kib, r.final_kib, r.growth_kib
                );
                result.soak = Some(r);
            }
        }
    }
    Ok(result)
}

fn plan(
    args: &Args,
    scenario: &str,
    steps: Vec<f64>,
    step_secs: u64,
    bound: Option<(f64, f64)>,
) -> Plan {
    Plan {
        tag: format!("{scenario}{}", std::process::id()),
        rooms: args.rooms,
        users_per_room: args.users_per_room,
        sampled_per_room: args.sampled_per_room,
        steps,
        step_secs,
        warmup: Duration::from_secs(if step_secs > 2 { 1 } else { 0 }),
        p99_bound_ms: bound.map(|b| b.0),
        stop_p99_ms: bound.map(|b| b.1),
        connect_concurrency: args.connect_concurrency,
    }
}

fn ramp_steps(args: &Args) -> Vec<f64> {
    let mut steps = Vec::new();
    let mut rate = args.ramp_start.max(1.0);
    while rate <= args.ramp_max && steps.len() < 100 {
        steps.push(rate);
        rate *= args.ramp_factor.max(1.01);
    }
    steps
}
