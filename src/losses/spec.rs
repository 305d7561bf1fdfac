//! Spec strings: `name` or `name(key=value, …)`, checked against a
//! registry entry's parameters and defaults. Shared by every loss family.

use super::LossInfo;

/// Splits `name(k=v, …)` into the name and its `(key, value)` pairs.
pub fn parse_call(spec: &str) -> Result<(String, Vec<(String, String)>), String> {
    let s = spec.trim();
    let (name, rest) = match s.find('(') {
        Some(i) => {
            let inner = s[i + 1..]
                .strip_suffix(')')
                .ok_or_else(|| format!("`{spec}`: missing `)`"))?;
            (&s[..i], Some(inner))
        }
        None => (s, None),
    };
    let mut params = Vec::new();
    if let Some(inner) = rest {
        for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{spec}`: parameter `{part}` is not `key=value`"))?;
            params.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok((name.trim().to_string(), params))
}

/// A registry entry's parameters with the spec's values filled in over the
/// defaults.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    spec: &'a str,
    values: Vec<(&'static str, String)>,
}

impl<'a> Params<'a> {
    /// Fills `info`'s defaults with `given`; a key the entry does not have is
    /// an error listing the valid ones (`extra` names keys the caller handles
    /// itself, such as `variant`, for that list).
    pub fn resolve<K>(
        spec: &'a str,
        info: &LossInfo<K>,
        given: Vec<(String, String)>,
        extra: &[&str],
    ) -> Result<Self, String> {
        let mut values: Vec<(&'static str, String)> = info
            .params
            .iter()
            .map(|(k, d)| (*k, d.to_string()))
            .collect();
        let mut seen: Vec<String> = Vec::new();
        for (k, v) in given {
            if seen.contains(&k) {
                return Err(format!("`{spec}`: parameter `{k}` is given twice"));
            }
            seen.push(k.clone());
            let Some(slot) = values.iter_mut().find(|(name, _)| *name == k) else {
                let mut valid: Vec<&str> = info.params.iter().map(|(k, _)| *k).collect();
                valid.extend_from_slice(extra);
                return Err(format!(
                    "`{spec}`: unknown parameter `{k}` for `{}`; valid parameters: {}",
                    info.name,
                    if valid.is_empty() {
                        "none".to_string()
                    } else {
                        valid.join(", ")
                    }
                ));
            };
            slot.1 = v;
        }
        Ok(Params { spec, values })
    }

    /// The spec text these values came from (for error messages).
    pub fn spec(&self) -> &'a str {
        self.spec
    }

    /// The text of a registered parameter.
    pub fn text(&self, k: &str) -> &str {
        &self
            .values
            .iter()
            .find(|(n, _)| *n == k)
            .unwrap_or_else(|| panic!("`{k}` is not a parameter of this registry entry"))
            .1
    }

    /// A finite number.
    pub fn num(&self, k: &str) -> Result<f64, String> {
        let v = self.text(k);
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("`{}`: `{k}` must be a finite number, got `{v}`", self.spec))
    }

    /// A number > 0.
    pub fn positive(&self, k: &str) -> Result<f64, String> {
        let x = self.num(k)?;
        if x > 0.0 {
            Ok(x)
        } else {
            Err(format!("`{}`: `{k}` must be > 0, got {x}", self.spec))
        }
    }

    /// A number ≥ 0.
    pub fn non_negative(&self, k: &str) -> Result<f64, String> {
        let x = self.num(k)?;
        if x >= 0.0 {
            Ok(x)
        } else {
            Err(format!("`{}`: `{k}` must be ≥ 0, got {x}", self.spec))
        }
    }

    /// A number in [0, 1].
    pub fn unit(&self, k: &str) -> Result<f64, String> {
        let x = self.num(k)?;
        if (0.0..=1.0).contains(&x) {
            Ok(x)
        } else {
            Err(format!("`{}`: `{k}` must be in [0, 1], got {x}", self.spec))
        }
    }

    /// `spec` written out with every parameter, plus `extra` (e.g. `variant=…`).
    pub fn canonical(&self, name: &str, extra: &[String]) -> String {
        let mut parts: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.extend_from_slice(extra);
        if parts.is_empty() {
            name.to_string()
        } else {
            format!("{name}({})", parts.join(", "))
        }
    }
}
