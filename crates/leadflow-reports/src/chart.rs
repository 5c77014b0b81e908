//! A chart's data, ready to draw: the one shape the SVG renderer, the HTML pages, the
//! weekly report and the JSON API share. It knows nothing of how a chart is drawn.

use serde::Serialize;

/// How a chart is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Vertical bars, one per point (several series side by side).
    Bar,
    /// A line per series over ordered points (dates).
    Line,
    /// Horizontal bars narrowing stage by stage.
    Funnel,
}

/// What a chart's numbers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Counts of contacts or deals.
    Count,
    /// Fractions 0–1, shown as percentages.
    Ratio,
    /// Money, in the portal's currency.
    Money,
}

/// One point: a label on the x axis and its value (`None`: no data for it, drawn as a gap,
/// never as 0).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The x label (an ICP type, a campaign, a day, a score bucket, a funnel stage).
    pub label: String,
    /// The value, in the chart's unit.
    pub value: Option<f64>,
    /// The value as people read it (`no data` when there is none), with what it is
    /// computed from where that helps (`12.5% (5/40)`).
    pub display: String,
}

/// A named sequence of points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// The legend's name.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<Point>,
}

/// A chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chart {
    /// The catalogue name ("Response Rate by ICP Type").
    pub name: String,
    /// How it is drawn.
    pub kind: ChartKind,
    /// What its numbers are.
    pub unit: Unit,
    /// The x axis's title.
    pub x_label: String,
    /// The y axis's title.
    pub y_label: String,
    /// Its series (most charts have one).
    pub series: Vec<Series>,
}

impl Chart {
    /// Whether there is nothing to draw: no series has a point with a value.
    pub fn is_empty(&self) -> bool {
        self.series
            .iter()
            .all(|s| s.points.iter().all(|p| p.value.is_none()))
    }
}
