//! The tests against values computed by hand (closed forms noted beside each).

use super::*;

fn tested(e: Evidence) -> Test {
    match e {
        Evidence::Tested(t) => t,
        Evidence::NotEnoughData { reason } => panic!("expected a test, got: {reason}"),
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn the_normal_tail_matches_the_table() {
    assert!(close(normal_sf(0.0), 0.5, 1e-12));
    assert!(close(normal_sf(1.959_963_985), 0.025, 1e-9));
    assert!(close(normal_sf(-1.644_853_627), 0.95, 1e-9));
}

#[test]
fn sixty_of_a_hundred_against_forty_of_a_hundred() {
    // Pooled p = 0.5; se = sqrt(0.25 * (1/100 + 1/100)) = sqrt(0.005); z = 0.2 / se = 2√2.
    let t = tested(two_proportions(
        Rate::new(60, 100),
        Rate::new(40, 100),
        Alternative::TwoSided,
        ALPHA,
    ));
    assert!(close(t.statistic, 2.0 * std::f64::consts::SQRT_2, 1e-12));
    // 2 × (1 − Φ(2.828427)) = 0.0046777.
    assert!(close(t.p_value, 0.004_677_7, 1e-6), "{}", t.p_value);
    assert!(t.significant);
    // One-sided: half of it one way, the rest the other.
    let g = tested(two_proportions(
        Rate::new(60, 100),
        Rate::new(40, 100),
        Alternative::Greater,
        ALPHA,
    ));
    assert!(close(g.p_value, 0.004_677_7 / 2.0, 1e-6));
    let l = tested(two_proportions(
        Rate::new(60, 100),
        Rate::new(40, 100),
        Alternative::Less,
        ALPHA,
    ));
    assert!(close(l.p_value, 1.0 - 0.004_677_7 / 2.0, 1e-6));
}

#[test]
fn a_small_difference_is_not_significant() {
    // Pooled p = 0.5; z = 0.06 / sqrt(0.005) = 0.8485; p = 0.396.
    let t = tested(two_proportions(
        Rate::new(53, 100),
        Rate::new(47, 100),
        Alternative::TwoSided,
        ALPHA,
    ));
    assert!(close(t.p_value, 0.396_1, 1e-4), "{}", t.p_value);
    assert!(!t.significant);
}

#[test]
fn thin_groups_are_not_enough_data() {
    let e = two_proportions(
        Rate::new(20, 29),
        Rate::new(5, 100),
        Alternative::TwoSided,
        ALPHA,
    );
    assert!(matches!(&e, Evidence::NotEnoughData { reason } if reason.contains("29 contacts")));
    // Enough contacts, too few successes: 4 expected in each group.
    let e = two_proportions(
        Rate::new(5, 100),
        Rate::new(3, 100),
        Alternative::TwoSided,
        ALPHA,
    );
    assert!(!e.tested(), "{e:?}");
}

#[test]
fn chi_square_of_two_groups_is_the_z_test_squared() {
    let t = tested(independence(
        &[Rate::new(60, 100), Rate::new(40, 100)],
        ALPHA,
    ));
    assert!(close(t.statistic, 8.0, 1e-9));
    assert!(close(t.p_value, 0.004_677_7, 1e-6));
}

#[test]
fn chi_square_of_three_groups() {
    // p = 0.4; expected 40 and 60 per group; χ² = 2 × (100/40 + 100/60) = 8.3333;
    // with 2 degrees of freedom the tail is exp(−χ²/2) = 0.015503.
    let t = tested(independence(
        &[Rate::new(30, 100), Rate::new(50, 100), Rate::new(40, 100)],
        ALPHA,
    ));
    assert!(close(t.statistic, 25.0 / 3.0, 1e-9));
    assert!(close(t.p_value, (-25.0f64 / 6.0).exp(), 1e-9));
    assert!(!independence(&[Rate::new(30, 100)], ALPHA).tested());
}

#[test]
fn counts_over_months_of_different_lengths() {
    // Equal months: given 100, 60 is binomial(100, 0.5): z = (60 − 50) / 5 = 2.
    let t = tested(two_counts(60, 30, 40, 30, ALPHA));
    assert!(close(t.statistic, 2.0, 1e-12));
    assert!(close(t.p_value, 0.045_500_3, 1e-6));
    // 31 days against 28: p = 31/59, so 62 against 56 is exactly what the lengths explain.
    let t = tested(two_counts(62, 31, 56, 28, ALPHA));
    assert!(close(t.statistic, 0.0, 1e-12));
    assert!(!t.significant);
    assert!(!two_counts(3, 30, 4, 30, ALPHA).tested());
}

#[test]
fn tests_read_with_their_level_and_tiny_p_values_as_below_a_thousandth() {
    let t = tested(two_proportions(
        Rate::new(60, 100),
        Rate::new(40, 100),
        Alternative::TwoSided,
        ALPHA,
    ));
    assert_eq!(t.display(), "z = 2.83, p = 0.005 < 0.05: significant");
    let t = tested(two_proportions(
        Rate::new(90, 100),
        Rate::new(10, 100),
        Alternative::TwoSided,
        ALPHA / 3.0,
    ));
    assert_eq!(t.display(), "z = 11.31, p < 0.001 < 0.0167: significant");
    let e = two_proportions(
        Rate::new(1, 2),
        Rate::new(1, 2),
        Alternative::TwoSided,
        ALPHA,
    );
    assert_eq!(
        e.display(),
        "not enough data: the first group has 2 contacts, fewer than 30"
    );
}
