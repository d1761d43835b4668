//! The engine on its own, driving a model that has nothing to do with
//! patching: a single-server coffee shop (an M/M/1 queue).
//!
//! Customers arrive at random, wait for the one barista, are served and
//! leave. The engine supplies time, the agenda and a seeded random stream;
//! the model is ~40 lines. Run: `cargo run --example minimal_engine`.

use std::collections::VecDeque;

use patchsim::engine::{Model, Scheduler, SimDuration, SimTime, Simulation, StreamRng, Streams};
use rand::Rng;

#[derive(Clone, Copy, Debug)]
enum Event {
    Arrive,
    ServiceDone,
}

struct CoffeeShop {
    rng: StreamRng,
    waiting: VecDeque<SimTime>,
    busy: bool,
    served: u64,
    total_wait_ms: u64,
}

impl CoffeeShop {
    /// An exponential draw with the given mean, in whole milliseconds.
    fn exp_ms(&mut self, mean_ms: f64) -> SimDuration {
        let u: f64 = self.rng.random();
        SimDuration((-mean_ms * (1.0 - u).ln()).round() as u64)
    }

    fn start_service(&mut self, sched: &mut Scheduler<'_, Event>) {
        if let Some(arrived) = self.waiting.pop_front() {
            self.busy = true;
            self.total_wait_ms += sched.now().since(arrived).as_ms();
            let length = self.exp_ms(50_000.0); // 50 s per coffee
            sched.after(length, Event::ServiceDone);
        }
    }
}

impl Model for CoffeeShop {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Scheduler<'_, Event>) {
        match event {
            Event::Arrive => {
                self.waiting.push_back(sched.now());
                let gap = self.exp_ms(60_000.0); // a customer a minute
                sched.after(gap, Event::Arrive);
                if !self.busy {
                    self.start_service(sched);
                }
            }
            Event::ServiceDone => {
                self.busy = false;
                self.served += 1;
                self.start_service(sched);
            }
        }
    }
}

fn main() {
    let shop = CoffeeShop {
        rng: Streams::new(2024).stream(0, 0),
        waiting: VecDeque::new(),
        busy: false,
        served: 0,
        total_wait_ms: 0,
    };
    let mut sim = Simulation::new(shop);
    sim.schedule(SimTime::ZERO, Event::Arrive);
    let stats = sim.run_until(SimTime::ZERO + SimDuration::from_days(30));
    let shop = sim.model();
    let mean_wait_s = shop.total_wait_ms as f64 / shop.served as f64 / 1000.0;
    // M/M/1 with ρ = 50/60: mean wait in queue = ρ/(μ − λ) = 250 s.
    println!(
        "30 days: {} events, {} coffees served, mean wait {:.0} s (theory: 250 s)",
        stats.events, shop.served, mean_wait_s
    );
    assert!(
        (mean_wait_s - 250.0).abs() < 50.0,
        "the queue behaves like M/M/1"
    );
}

#[cfg(test)]
#[test]
fn example_runs() {
    main();
}
