//! Gauge series that vanish when their subject goes away. The `metrics`
//! registry cannot forget a series once set, so a consumer's lag for a
//! partition it no longer owns would stay at its last value and be summed
//! with the new owner's. These series are instead replaced wholesale by
//! their owner (one Kafka client) on every report and appended to the
//! Prometheus text at scrape time.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One series: its label pairs and value.
pub type Series = (Vec<(&'static str, String)>, f64);

/// A gauge family's help text and its series by owner.
struct Family {
    help: &'static str,
    owners: BTreeMap<String, Vec<Series>>,
}

static FAMILIES: Mutex<BTreeMap<&'static str, Family>> = Mutex::new(BTreeMap::new());

/// Replaces every series `owner` reports for gauge `name` with `series`.
pub fn replace_live_gauges(
    name: &'static str,
    help: &'static str,
    owner: &str,
    series: Vec<Series>,
) {
    let mut families = FAMILIES.lock();
    let family = families.entry(name).or_insert_with(|| Family {
        help,
        owners: BTreeMap::new(),
    });
    if series.is_empty() {
        family.owners.remove(owner);
    } else {
        family.owners.insert(owner.to_owned(), series);
    }
}

/// Appends every live family in the Prometheus text format. Two owners
/// reporting the same labels (a hand-over in progress) give one series, the
/// larger value, so the exposition stays valid.
pub fn render_live_gauges(out: &mut String) {
    let families = FAMILIES.lock();
    for (name, family) in families.iter() {
        let mut merged: BTreeMap<String, f64> = BTreeMap::new();
        for (labels, value) in family.owners.values().flatten() {
            let slot = merged.entry(label_text(labels)).or_insert(*value);
            *slot = slot.max(*value);
        }
        if merged.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {name} {}", family.help);
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in merged {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    }
}

/// `{a="x",b="y"}` with values escaped as the text format requires.
fn label_text(labels: &[(&'static str, String)]) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| {
            let escaped = value
                .replace('\\', r"\\")
                .replace('"', "\\\"")
                .replace('\n', r"\n");
            format!("{key}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", pairs.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_left_out_of_a_report_is_gone_and_values_are_escaped() {
        let lag = |partition: &str, value| {
            (
                vec![
                    ("topic", "t\"1".to_owned()),
                    ("partition", partition.to_owned()),
                ],
                value,
            )
        };
        replace_live_gauges("test_lag", "lag", "a", vec![lag("0", 5.0), lag("1", 7.0)]);
        replace_live_gauges("test_lag", "lag", "b", vec![lag("1", 9.0)]);
        let mut text = String::new();
        render_live_gauges(&mut text);
        assert!(
            text.contains("test_lag{topic=\"t\\\"1\",partition=\"0\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("test_lag{topic=\"t\\\"1\",partition=\"1\"} 9\n"),
            "{text}"
        );
        assert_eq!(text.matches("partition=\"1\"").count(), 1, "{text}");

        // Owner a lost partition 0 in a rebalance.
        replace_live_gauges("test_lag", "lag", "a", vec![lag("1", 0.0)]);
        let mut text = String::new();
        render_live_gauges(&mut text);
        assert!(!text.contains("partition=\"0\""), "{text}");
    }
}
