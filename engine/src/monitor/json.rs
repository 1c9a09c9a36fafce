//! Serde helpers that reproduce Go's `encoding/json` choices.

use serde::Serializer;

/// Largest integer a double holds exactly.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// Writes a float as Go does: whole values without a fraction (`2`, not `2.0`).
pub(crate) fn go_float<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    let v = *v;
    if v.is_finite() && v.fract() == 0.0 && v.abs() < EXACT_INT {
        // Exact: |v| < 2^53 and whole.
        s.serialize_i64(v as i64)
    } else if v.is_finite() {
        s.serialize_f64(v)
    } else {
        s.serialize_i64(0)
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct F(#[serde(serialize_with = "super::go_float")] f64);

    #[test]
    fn whole_floats_have_no_fraction() {
        let text = |v| serde_json::to_string(&F(v)).unwrap_or_default();
        assert_eq!(text(2.0), "2");
        assert_eq!(text(0.0), "0");
        assert_eq!(text(0.625), "0.625");
        assert_eq!(text(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(text(f64::NAN), "0");
    }
}
