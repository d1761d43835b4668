//! Build a small estate in Rust code instead of a RON file, run it and read
//! the summary. Run: `cargo run --example estate_in_code`.

use patchsim::model;
use patchsim::output;
use patchsim::scenario::{
    self, ClientSettings, Cohort, Deployment, Dist, DistributionPoint, ManagementPoint, Power,
    Scenario, Servers, Site, Sync, Update, UpdatePoint,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let raw = Scenario {
        name: "in-code".into(),
        description: "two cohorts, one Required update".into(),
        seed: 3,
        start: "2026-12-07T00:00:00Z".parse()?,
        duration: "10d".parse()?,
        sample_interval: "1h".parse()?,
        busy_threshold_pct: scenario::DEFAULT_BUSY_THRESHOLD_PCT,
        site: Site::default(),
        primaries: Vec::new(),
        servers: Servers {
            management_points: vec![ManagementPoint::named("mp")],
            update_points: vec![UpdatePoint::named("sup")],
            distribution_points: vec![DistributionPoint::named("dp")],
            cloud_management_gateways: Vec::new(),
        },
        locations: Vec::new(),
        sync: Sync::default(),
        faults: Vec::new(),
        client_settings: ClientSettings::default(),
        cohorts: vec![
            Cohort {
                power: Power::BusinessHours {
                    start: "08:00".parse()?,
                    end: "18:00".parse()?,
                    jitter: "30m".parse()?,
                },
                link: "50Mbps".parse()?,
                ..Cohort::new("office", 800, "mp", "sup", "dp")
            },
            Cohort {
                link: "1Gbps".parse()?,
                ..Cohort::new("servers", 200, "mp", "sup", "dp")
            },
        ],
        updates: vec![Update {
            title: "December cumulative update".into(),
            install_time: Dist::LogNormal {
                median: "15m".parse()?,
                sigma: 0.4,
            },
            ..Update::new("KB5099999", "700MB".parse()?)
        }],
        update_groups: Vec::new(),
        automatic_deployment_rules: Vec::new(),
        deployments: vec![Deployment {
            deadline: Some("2026-12-11T12:00:00Z".parse()?),
            ..Deployment::required(
                "december",
                &["KB5099999"],
                &["office", "servers"],
                "2026-12-09T09:00:00Z".parse()?,
            )
        }],
    };
    let estate = scenario::build(raw, "in-code")?;
    let outcome = model::run(&estate, Default::default()).expect("never stopped");
    let summary = output::summary(&estate, &outcome);
    print!("{}", output::summary_text(&summary, &[]));
    let dep = &summary.deployments[0];
    assert_eq!(dep.targeted, 1000);
    assert!(
        dep.compliant_pct_true > 90.0,
        "most clients are patched in 10 days"
    );
    Ok(())
}

#[cfg(test)]
#[test]
fn example_runs() {
    main().expect("the example succeeds");
}
