//! The fault schedule: which faults, in which order, for how long, all drawn
//! from one seed so a failing run can be replayed.

use std::time::Duration;

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

/// The dispatcher's Kafka session timeout; a pause must outlast it so the
/// group really evicts the paused member.
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The command service's producer message timeout in the suite's stack: a
/// broker outage longer than this sends every record of it through the
/// spool's re-send path, not the producer's own retries.
pub(crate) const MESSAGE_TIMEOUT: Duration = Duration::from_secs(4);

/// How long the faults last and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Profile {
    /// Every fault, target faults twice, with holds of several seconds.
    Long,
    /// Every fault once, with short holds: the test command's smoke run.
    Short,
}

/// A service the suite can crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Service {
    Command,
    Dispatcher,
    Query,
}

/// One fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Fault {
    /// SIGKILL one service, restart it after the hold.
    Kill { service: Service },
    /// SIGKILL two services at once, restart them after the hold.
    KillTwo { first: Service, second: Service },
    /// SIGKILL command, dispatcher and query at once, restart them after the hold.
    KillAll,
    /// SIGSTOP the dispatcher for the hold (longer than the session timeout), then SIGCONT.
    PauseDispatcher,
    /// SIGKILL the broker (a crash, no controlled shutdown), start it again
    /// after the hold, which outlasts the producer's message timeout.
    CrashBroker,
    /// Stop Postgres `immediate` (a crash: no checkpoint, WAL recovery at the
    /// next start), start it again after the hold.
    CrashPostgres,
    /// Crash the broker; a third of the way into the outage SIGKILL the
    /// command service (its spool holding events) and restart it while the
    /// broker is still down.
    KillCommandDuringBrokerOutage,
    /// Make the target answer every request 503, then SIGKILL the
    /// dispatcher mid-failure and restart it before the target recovers.
    KillDispatcherWhileTargetFails,
    /// Crash the broker and keep it down until the command service's spool
    /// disk (a small tmpfs) is full and the spool reports unhealthy, or the
    /// hold ends; then start it again.
    FillSpoolDisk,
    /// The target answers this share of requests 503 for the hold.
    TargetErrors { share: f64 },
    /// The target answers this share of requests 429 for the hold.
    TargetRateLimited { share: f64 },
    /// The target adds this much latency to every request for the hold.
    TargetSlow { min_ms: u64, max_ms: u64 },
    /// The target hangs this share of requests past the dispatcher's timeout.
    TargetTimeouts { share: f64 },
    /// The target answers every request with this status (401, 403, 404)
    /// for the hold: the dispatcher's breaker opens and nothing is dead-lettered.
    TargetRefuses { status: u16 },
    /// The target gives `count` answers of this kind (the sandbox's hostile
    /// answers: absurd Retry-After, slow-drip, oversized, non-JSON, cut bodies).
    TargetHostile { answer: String, count: u64 },
}

/// The hostile answers the sandbox can give, as its JSON `answer` objects.
pub(crate) const HOSTILE_ANSWERS: &[&str] = &[
    r#"{"kind":"retry_after","value":"18446744073709551615"}"#,
    r#"{"kind":"retry_after","value":"Fri, 31 Dec 9999 23:59:59 GMT"}"#,
    r#"{"kind":"graphql_retry_after","value":"1e20"}"#,
    r#"{"kind":"slow_drip","bytes":100000,"every_ms":100}"#,
    r#"{"kind":"oversized","bytes":8388608}"#,
    r#"{"kind":"not_json"}"#,
    r#"{"kind":"no_data_no_errors"}"#,
    r#"{"kind":"reset_mid_body"}"#,
];

/// What a fault can make happen twice, from which the run's duplicate bound
/// is summed fault by fault.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DuplicateWindows {
    /// Deliveries in flight when the dispatcher loses its partitions
    /// uncommitted: in-flight window × partitions.
    pub(crate) dispatcher: u64,
    /// Records the producer had handed to Kafka but the spool had not yet
    /// marked forwarded when the command service died or the broker went
    /// away: the events offered in one producer round trip (a second).
    pub(crate) command: u64,
}

impl Fault {
    /// The duplicate deliveries this fault can cause, at most: a command
    /// kill re-sends only what its spool had not marked (never a dispatcher
    /// redelivery); a dispatcher kill or pause, or a broker crash (commits
    /// lost), redelivers the in-flight window; Postgres, query and target
    /// faults cause none (the sandbox creates nothing on an injected failure).
    pub(crate) fn duplicate_bound(&self, windows: DuplicateWindows) -> u64 {
        let kill = |service: &Service| match service {
            Service::Command => windows.command,
            Service::Dispatcher => windows.dispatcher,
            Service::Query => 0,
        };
        match self {
            Fault::Kill { service } => kill(service),
            Fault::KillTwo { first, second } => kill(first) + kill(second),
            Fault::KillAll => windows.command + windows.dispatcher,
            Fault::PauseDispatcher | Fault::KillDispatcherWhileTargetFails => windows.dispatcher,
            Fault::CrashBroker | Fault::FillSpoolDisk => windows.command + windows.dispatcher,
            Fault::KillCommandDuringBrokerOutage => 2 * windows.command + windows.dispatcher,
            _ => 0,
        }
    }

    /// Whether the broker is down longer than the producer's message
    /// timeout: the spool must then hold events, and forward all of them.
    pub(crate) fn is_long_broker_outage(&self) -> bool {
        matches!(
            self,
            Fault::CrashBroker | Fault::KillCommandDuringBrokerOutage | Fault::FillSpoolDisk
        )
    }

    /// The fault's kind, for the per-kind figures.
    pub(crate) fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|value| value["kind"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A fault after a quiet gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Step {
    /// Quiet time before the fault starts.
    pub(crate) gap_ms: u64,
    /// What happens.
    pub(crate) fault: Fault,
    /// How long it lasts (down time, pause, or burst length).
    pub(crate) hold_ms: u64,
}

/// Two lanes run side by side: the process faults one after another, and the
/// target's faults, so a crash can land in the middle of a 429 storm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Schedule {
    pub(crate) seed: u64,
    pub(crate) processes: Vec<Step>,
    pub(crate) target: Vec<Step>,
}

impl Schedule {
    /// The schedule for `seed`: the same seed always gives the same schedule.
    /// `disk_can_fill` adds the spool-disk fault (the suite mounted a tmpfs).
    pub(crate) fn random(seed: u64, profile: Profile, disk_can_fill: bool) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let scale = match profile {
            Profile::Long => 1.0,
            Profile::Short => 0.5,
        };
        let ms = |rng: &mut StdRng, low: u64, high: u64| {
            let (low, high) = ((low as f64 * scale) as u64, (high as f64 * scale) as u64);
            rng.gen_range(low..=high.max(low))
        };

        let mut faults = vec![
            Fault::Kill {
                service: Service::Command,
            },
            Fault::Kill {
                service: Service::Dispatcher,
            },
            Fault::Kill {
                service: Service::Query,
            },
            Fault::KillAll,
            Fault::PauseDispatcher,
            Fault::CrashBroker,
            Fault::CrashPostgres,
            Fault::KillCommandDuringBrokerOutage,
            Fault::KillDispatcherWhileTargetFails,
        ];
        let services = [Service::Command, Service::Dispatcher, Service::Query];
        let first = rng.gen_range(0..services.len());
        let second = (first + rng.gen_range(1..services.len())) % services.len();
        faults.push(Fault::KillTwo {
            first: services[first],
            second: services[second],
        });
        if disk_can_fill {
            faults.push(Fault::FillSpoolDisk);
        }
        faults.shuffle(&mut rng);
        // Unscaled: an outage within the message timeout proves nothing about the spool.
        let long_outage = |rng: &mut StdRng| {
            let timeout = MESSAGE_TIMEOUT.as_millis() as u64;
            match profile {
                Profile::Long => rng.gen_range(timeout + 4_000..=timeout + 12_000),
                Profile::Short => rng.gen_range(timeout + 2_000..=timeout + 4_000),
            }
        };
        let processes = faults
            .into_iter()
            .map(|fault| {
                let hold_ms = match fault {
                    // Unscaled: a pause shorter than the session timeout proves nothing.
                    Fault::PauseDispatcher => {
                        let timeout = SESSION_TIMEOUT.as_millis() as u64;
                        rng.gen_range(timeout + 1_500..=timeout + 6_000)
                    }
                    Fault::CrashBroker | Fault::KillCommandDuringBrokerOutage => {
                        long_outage(&mut rng)
                    }
                    // The most it may take; it ends early once the disk is full.
                    Fault::FillSpoolDisk => 45_000,
                    Fault::CrashPostgres => ms(&mut rng, 1_000, 5_000),
                    Fault::KillDispatcherWhileTargetFails => ms(&mut rng, 2_000, 5_000),
                    _ => ms(&mut rng, 300, 3_000),
                };
                Step {
                    gap_ms: ms(&mut rng, 1_500, 5_000),
                    fault,
                    hold_ms,
                }
            })
            .collect();

        let rounds = match profile {
            Profile::Long => 2,
            Profile::Short => 1,
        };
        let mut target = Vec::new();
        for _ in 0..rounds {
            let mut faults = vec![
                Fault::TargetErrors {
                    share: round2(rng.gen_range(0.5..=1.0)),
                },
                Fault::TargetRateLimited {
                    share: round2(rng.gen_range(0.5..=0.95)),
                },
                Fault::TargetSlow {
                    min_ms: rng.gen_range(50..=300),
                    max_ms: rng.gen_range(600..=1_500),
                },
                Fault::TargetTimeouts {
                    share: round2(rng.gen_range(0.1..=0.4)),
                },
                Fault::TargetRefuses {
                    status: *[401, 403, 404].choose(&mut rng).unwrap_or(&401),
                },
                Fault::TargetHostile {
                    answer: HOSTILE_ANSWERS
                        .choose(&mut rng)
                        .copied()
                        .unwrap_or(HOSTILE_ANSWERS[0])
                        .to_owned(),
                    count: rng.gen_range(5..=50),
                },
            ];
            faults.shuffle(&mut rng);
            for fault in faults {
                target.push(Step {
                    gap_ms: ms(&mut rng, 1_000, 4_000),
                    hold_ms: ms(&mut rng, 3_000, 9_000),
                    fault,
                });
            }
        }
        Self {
            seed,
            processes,
            target,
        }
    }

    /// A guess at how long the process lane takes, restarts included: the
    /// load is spread over it so faults land among events in flight.
    pub(crate) fn expected_duration(&self) -> Duration {
        let lane = |steps: &[Step], overhead: &dyn Fn(&Fault) -> u64| {
            steps
                .iter()
                .map(|s| s.gap_ms + s.hold_ms + overhead(&s.fault))
                .sum::<u64>()
        };
        let processes = lane(&self.processes, &|fault| match fault {
            // The broker's start; the disk fault usually ends before its
            // hold, so the load runs on a little past the last fault.
            Fault::CrashBroker | Fault::KillCommandDuringBrokerOutage | Fault::FillSpoolDisk => {
                12_000
            }
            Fault::CrashPostgres => 3_000,
            _ => 1_500,
        });
        let target = lane(&self.target, &|_| 0);
        Duration::from_millis(processes.max(target))
    }

    /// Every fault of both lanes.
    pub(crate) fn steps(&self) -> impl Iterator<Item = &Step> {
        self.processes.iter().chain(&self.target)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_gives_the_same_schedule_and_seeds_differ() {
        let a = Schedule::random(42, Profile::Long, true);
        assert_eq!(a, Schedule::random(42, Profile::Long, true));
        assert_ne!(a, Schedule::random(43, Profile::Long, true));
    }

    #[test]
    fn every_run_has_every_fault_and_pauses_and_outages_outlast_their_timeouts() {
        for seed in 0..50 {
            let schedule = Schedule::random(seed, Profile::Short, true);
            let kinds: Vec<String> = schedule
                .steps()
                .map(|s| {
                    format!("{:?}", s.fault)
                        .split([' ', '{'])
                        .next()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            for kind in [
                "Kill",
                "KillTwo",
                "KillAll",
                "PauseDispatcher",
                "CrashBroker",
                "CrashPostgres",
                "KillCommandDuringBrokerOutage",
                "KillDispatcherWhileTargetFails",
                "FillSpoolDisk",
                "TargetErrors",
                "TargetRateLimited",
                "TargetSlow",
                "TargetTimeouts",
                "TargetRefuses",
                "TargetHostile",
            ] {
                assert!(kinds.iter().any(|k| k == kind), "seed {seed} lacks {kind}");
            }
            assert_eq!(
                schedule
                    .processes
                    .iter()
                    .filter(|s| matches!(s.fault, Fault::Kill { .. }))
                    .count(),
                3
            );
            let pause = schedule
                .processes
                .iter()
                .find(|s| s.fault == Fault::PauseDispatcher)
                .unwrap();
            assert!(pause.hold_ms > SESSION_TIMEOUT.as_millis() as u64);
            for outage in schedule
                .processes
                .iter()
                .filter(|s| s.fault.is_long_broker_outage())
            {
                assert!(outage.hold_ms > MESSAGE_TIMEOUT.as_millis() as u64 + 1_000);
            }
            let two = schedule
                .processes
                .iter()
                .find_map(|s| match s.fault {
                    Fault::KillTwo { first, second } => Some((first, second)),
                    _ => None,
                })
                .unwrap();
            assert_ne!(two.0, two.1, "two different services");
        }
    }

    #[test]
    fn a_command_kill_bounds_no_dispatcher_redelivery() {
        let windows = DuplicateWindows {
            dispatcher: 192,
            command: 20,
        };
        let command = Fault::Kill {
            service: Service::Command,
        };
        assert_eq!(command.duplicate_bound(windows), 20);
        assert_eq!(Fault::CrashPostgres.duplicate_bound(windows), 0);
        assert_eq!(
            Fault::KillTwo {
                first: Service::Dispatcher,
                second: Service::Query
            }
            .duplicate_bound(windows),
            192
        );
    }
}
