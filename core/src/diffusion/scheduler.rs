//! Noise schedulers for the diffusion renderer: DDIM and DDPM (the base model's
//! own), and DPM-Solver++ (2M), which reaches the same quality in about 20 steps
//! instead of 50. Each follows the formulas of the diffusers scheduler of the same
//! name, including its timestep spacing, so that a package trained and checked
//! with diffusers samples the same way here (models/fixtures/diffusion/
//! schedulers.json holds diffusers' trajectories; the tests compare).
//!
//! Arithmetic is f32 like diffusers' tensors; the schedule itself (betas and their
//! cumulative product) is built in f32 the same way.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What the network predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// The noise that was added.
    Epsilon,
    /// The "velocity" `sqrt(a) * noise - sqrt(1 - a) * x0` (Stable Diffusion 2.x).
    VPrediction,
}

/// How the inference timesteps are spread over the training schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spacing {
    Linspace,
    Leading,
    Trailing,
}

/// The training schedule a package was trained with (diffusers' scheduler config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerConfig {
    pub num_train_timesteps: usize,
    pub beta_start: f32,
    pub beta_end: f32,
    /// "scaled_linear" (Stable Diffusion) or "linear".
    pub beta_schedule: String,
    pub prediction_type: Prediction,
    #[serde(default)]
    pub set_alpha_to_one: bool,
    #[serde(default)]
    pub steps_offset: usize,
    #[serde(default)]
    pub clip_sample: bool,
    /// When absent, each scheduler's own default (diffusers': DDIM and DDPM
    /// "leading", DPM-Solver++ "linspace").
    #[serde(default)]
    pub timestep_spacing: Option<Spacing>,
}

impl SchedulerConfig {
    /// Stable Diffusion 2.1's training schedule (its scheduler_config.json), with
    /// `prediction` (2.1 itself is v-prediction).
    pub fn stable_diffusion_2_1(prediction: Prediction) -> Self {
        SchedulerConfig {
            num_train_timesteps: 1000,
            beta_start: 0.00085,
            beta_end: 0.012,
            beta_schedule: "scaled_linear".into(),
            prediction_type: prediction,
            set_alpha_to_one: false,
            steps_offset: 1,
            clip_sample: false,
            timestep_spacing: None,
        }
    }
}

/// The samplers on offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchedulerKind {
    /// Deterministic DDIM (eta 0): the reference sampler, 50 steps.
    Ddim,
    /// Ancestral DDPM: adds fresh noise at every step.
    Ddpm,
    /// DPM-Solver++ second-order multistep: about 20 steps for DDIM's 50.
    #[serde(rename = "dpm++")]
    DpmSolverPP,
}

impl SchedulerKind {
    pub const ALL: [SchedulerKind; 3] = [
        SchedulerKind::Ddim,
        SchedulerKind::Ddpm,
        SchedulerKind::DpmSolverPP,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SchedulerKind::Ddim => "ddim",
            SchedulerKind::Ddpm => "ddpm",
            SchedulerKind::DpmSolverPP => "dpm++",
        }
    }

    /// Reads "ddim", "ddpm", "dpm++" (also "dpmpp", "dpm-solver++").
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ddim" => Some(SchedulerKind::Ddim),
            "ddpm" => Some(SchedulerKind::Ddpm),
            "dpm++" | "dpmpp" | "dpm-solver++" | "dpmpp2m" => Some(SchedulerKind::DpmSolverPP),
            _ => None,
        }
    }

    /// The step count that gives this sampler's full quality.
    pub fn default_steps(self) -> usize {
        match self {
            SchedulerKind::DpmSolverPP => 20,
            _ => 50,
        }
    }
}

/// One sampling run's schedule and state. Create one per image.
#[derive(Debug, Clone)]
pub struct Scheduler {
    kind: SchedulerKind,
    prediction: Prediction,
    clip_sample: bool,
    num_train: usize,
    alphas_cumprod: Vec<f32>,
    final_alpha_cumprod: f32,
    timesteps: Vec<usize>,
    /// DPM-Solver++: noise levels at each timestep, then 0.
    sigmas: Vec<f32>,
    step_index: usize,
    /// DPM-Solver++: the previous step's predicted clean sample.
    previous_x0: Option<Vec<f32>>,
}

fn bad(reason: String) -> Error {
    Error::InvalidRequest(format!("scheduler: {reason}"))
}

/// `np.linspace(start, stop, n)` in f64.
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![start],
        _ => (0..n)
            .map(|i| start + (stop - start) * i as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// Rounds half to even, as NumPy's `round` does.
fn round_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - v.signum()
    } else {
        r
    }
}

impl Scheduler {
    /// A schedule of `steps` steps for `kind` on the training schedule `cfg`.
    pub fn new(kind: SchedulerKind, cfg: &SchedulerConfig, steps: usize) -> Result<Self> {
        let n = cfg.num_train_timesteps;
        if n < 2 {
            return Err(bad(format!("{n} training timesteps")));
        }
        if steps == 0 || steps > n {
            return Err(bad(format!("{steps} steps (1 to {n})")));
        }
        if !(cfg.beta_start > 0.0 && cfg.beta_end < 1.0 && cfg.beta_start <= cfg.beta_end) {
            return Err(bad(format!(
                "betas {}..{} are not in (0, 1)",
                cfg.beta_start, cfg.beta_end
            )));
        }
        // torch.linspace in f32, squared for "scaled_linear".
        let betas: Vec<f32> = match cfg.beta_schedule.as_str() {
            "scaled_linear" => {
                let (a, b) = (cfg.beta_start.sqrt(), cfg.beta_end.sqrt());
                (0..n)
                    .map(|i| {
                        let v = a + (b - a) * (i as f32 / (n - 1) as f32);
                        v * v
                    })
                    .collect()
            }
            "linear" => (0..n)
                .map(|i| {
                    cfg.beta_start + (cfg.beta_end - cfg.beta_start) * (i as f32 / (n - 1) as f32)
                })
                .collect(),
            other => return Err(bad(format!("beta schedule \"{other}\" is not supported"))),
        };
        let mut acp = Vec::with_capacity(n);
        let mut p = 1.0f32;
        for b in &betas {
            p *= 1.0 - b;
            acp.push(p);
        }
        let final_alpha_cumprod = if cfg.set_alpha_to_one { 1.0 } else { acp[0] };
        let spacing = cfg.timestep_spacing.unwrap_or(match kind {
            SchedulerKind::DpmSolverPP => Spacing::Linspace,
            _ => Spacing::Leading,
        });
        let timesteps = match kind {
            SchedulerKind::DpmSolverPP => dpm_timesteps(n, steps, spacing, cfg.steps_offset),
            _ => ddim_timesteps(n, steps, spacing, cfg.steps_offset),
        };
        if timesteps.iter().any(|&t| t >= n) {
            return Err(bad(format!(
                "steps_offset {} pushes a timestep past {n}",
                cfg.steps_offset
            )));
        }
        let sigmas = if kind == SchedulerKind::DpmSolverPP {
            timesteps
                .iter()
                .map(|&t| ((1.0 - acp[t]) / acp[t]).sqrt())
                .chain(std::iter::once(0.0))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Scheduler {
            kind,
            prediction: cfg.prediction_type,
            clip_sample: cfg.clip_sample,
            num_train: n,
            alphas_cumprod: acp,
            final_alpha_cumprod,
            timesteps,
            sigmas,
            step_index: 0,
            previous_x0: None,
        })
    }

    pub fn kind(&self) -> SchedulerKind {
        self.kind
    }

    /// The timesteps the network is called at, in order.
    pub fn timesteps(&self) -> &[usize] {
        &self.timesteps
    }

    /// True when [`Scheduler::step`] needs fresh noise (DDPM).
    pub fn needs_noise(&self) -> bool {
        self.kind == SchedulerKind::Ddpm
    }

    /// Advances `sample` by one step, given the network's output at the current
    /// timestep (and, for DDPM, standard normal `noise` of the same length).
    pub fn step(
        &mut self,
        model_output: &[f32],
        sample: &mut [f32],
        noise: Option<&[f32]>,
    ) -> Result<()> {
        let i = self.step_index;
        if i >= self.timesteps.len() {
            return Err(bad("stepped past the last timestep".into()));
        }
        if model_output.len() != sample.len() {
            return Err(bad(format!(
                "model output has {} values, the sample {}",
                model_output.len(),
                sample.len()
            )));
        }
        match self.kind {
            SchedulerKind::Ddim => self.ddim(i, model_output, sample),
            SchedulerKind::Ddpm => {
                let noise = noise.ok_or_else(|| bad("DDPM needs noise at every step".into()))?;
                if noise.len() != sample.len() {
                    return Err(bad("noise and sample differ in length".into()));
                }
                self.ddpm(i, model_output, sample, noise)
            }
            SchedulerKind::DpmSolverPP => self.dpm(i, model_output, sample),
        }
        self.step_index += 1;
        Ok(())
    }

    /// The clean sample and noise the network's output implies at `alpha_prod`.
    fn predict(&self, alpha_prod: f32, out: f32, x: f32) -> (f32, f32) {
        let (sa, sb) = (alpha_prod.sqrt(), (1.0 - alpha_prod).sqrt());
        let (x0, eps) = match self.prediction {
            Prediction::Epsilon => ((x - sb * out) / sa, out),
            Prediction::VPrediction => (sa * x - sb * out, sa * out + sb * x),
        };
        (
            if self.clip_sample {
                x0.clamp(-1.0, 1.0)
            } else {
                x0
            },
            eps,
        )
    }

    fn ddim(&self, i: usize, out: &[f32], x: &mut [f32]) {
        let t = self.timesteps[i];
        let stride = self.num_train / self.timesteps.len();
        let a_t = self.alphas_cumprod[t];
        let a_prev = match t.checked_sub(stride) {
            Some(p) => self.alphas_cumprod[p],
            None => self.final_alpha_cumprod,
        };
        let (c0, c1) = (a_prev.sqrt(), (1.0 - a_prev).sqrt());
        for (x, &o) in x.iter_mut().zip(out) {
            let (x0, eps) = self.predict(a_t, o, *x);
            *x = c0 * x0 + c1 * eps;
        }
    }

    fn ddpm(&self, i: usize, out: &[f32], x: &mut [f32], noise: &[f32]) {
        let t = self.timesteps[i];
        let a_t = self.alphas_cumprod[t];
        let a_prev = self
            .timesteps
            .get(i + 1)
            .map_or(1.0, |&p| self.alphas_cumprod[p]);
        let (beta_t, beta_prev) = (1.0 - a_t, 1.0 - a_prev);
        let current_alpha = a_t / a_prev;
        let current_beta = 1.0 - current_alpha;
        let c_x0 = a_prev.sqrt() * current_beta / beta_t;
        let c_x = current_alpha.sqrt() * beta_prev / beta_t;
        let sd = if t > 0 {
            ((1.0 - a_prev) / (1.0 - a_t) * current_beta)
                .max(1e-20)
                .sqrt()
        } else {
            0.0
        };
        for ((x, &o), &z) in x.iter_mut().zip(out).zip(noise) {
            let (x0, _) = self.predict(a_t, o, *x);
            *x = c_x0 * x0 + c_x * *x + sd * z;
        }
    }

    fn dpm(&mut self, i: usize, out: &[f32], x: &mut [f32]) {
        let alpha_sigma = |s: f32| {
            let a = 1.0 / (s * s + 1.0).sqrt();
            (a, s * a)
        };
        let lambda = |(a, s): (f32, f32)| a.ln() - s.ln();
        let (a_s0, s_s0) = alpha_sigma(self.sigmas[i]);
        let x0: Vec<f32> = x
            .iter()
            .zip(out)
            .map(|(&x, &o)| match self.prediction {
                Prediction::Epsilon => (x - s_s0 * o) / a_s0,
                Prediction::VPrediction => a_s0 * x - s_s0 * o,
            })
            .map(|v| {
                if self.clip_sample {
                    v.clamp(-1.0, 1.0)
                } else {
                    v
                }
            })
            .collect();
        let last = i + 1 == self.timesteps.len();
        let sigma_next = self.sigmas[i + 1];
        if sigma_next == 0.0 {
            // The final step to noise level 0 lands on the predicted clean sample.
            x.copy_from_slice(&x0);
        } else {
            let (a_t, s_t) = alpha_sigma(sigma_next);
            let h = lambda((a_t, s_t)) - lambda((a_s0, s_s0));
            let decay = s_t / s_s0;
            let k = a_t * ((-h).exp() - 1.0);
            match (&self.previous_x0, last) {
                (Some(m1), false) => {
                    let (a_s1, s_s1) = alpha_sigma(self.sigmas[i - 1]);
                    let h0 = lambda((a_s0, s_s0)) - lambda((a_s1, s_s1));
                    let r0 = h0 / h;
                    for ((x, &m0), &m1) in x.iter_mut().zip(&x0).zip(m1) {
                        let d1 = (m0 - m1) / r0;
                        *x = decay * *x - k * m0 - 0.5 * k * d1;
                    }
                }
                _ => {
                    for (x, &m0) in x.iter_mut().zip(&x0) {
                        *x = decay * *x - k * m0;
                    }
                }
            }
        }
        self.previous_x0 = Some(x0);
    }
}

/// DDIM's and DDPM's timesteps.
fn ddim_timesteps(n: usize, steps: usize, spacing: Spacing, offset: usize) -> Vec<usize> {
    match spacing {
        Spacing::Linspace => linspace(0.0, (n - 1) as f64, steps)
            .into_iter()
            .rev()
            .map(|v| round_even(v) as usize)
            .collect(),
        Spacing::Leading => {
            let ratio = n / steps;
            (0..steps).rev().map(|i| i * ratio + offset).collect()
        }
        Spacing::Trailing => trailing(n, steps),
    }
}

/// DPM-Solver++'s timesteps: `steps + 1` points with the last dropped.
fn dpm_timesteps(n: usize, steps: usize, spacing: Spacing, offset: usize) -> Vec<usize> {
    match spacing {
        Spacing::Linspace => {
            let mut t: Vec<usize> = linspace(0.0, (n - 1) as f64, steps + 1)
                .into_iter()
                .rev()
                .map(|v| round_even(v) as usize)
                .collect();
            t.pop();
            t
        }
        Spacing::Leading => {
            let ratio = n / (steps + 1);
            (1..=steps).rev().map(|i| i * ratio + offset).collect()
        }
        Spacing::Trailing => trailing(n, steps),
    }
}

/// `round(arange(n, 0, -n / steps)) - 1`.
fn trailing(n: usize, steps: usize) -> Vec<usize> {
    let ratio = n as f64 / steps as f64;
    (0..steps)
        .map(|i| n as f64 - i as f64 * ratio)
        .take_while(|&v| v > 0.0)
        .map(|v| (round_even(v) as usize).saturating_sub(1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd21(prediction: Prediction) -> SchedulerConfig {
        SchedulerConfig::stable_diffusion_2_1(prediction)
    }

    #[test]
    fn timesteps_follow_diffusers_spacing() {
        let c = sd21(Prediction::VPrediction);
        let d = Scheduler::new(SchedulerKind::Ddim, &c, 10).unwrap();
        assert_eq!(
            d.timesteps(),
            &[901, 801, 701, 601, 501, 401, 301, 201, 101, 1]
        );
        let p = Scheduler::new(SchedulerKind::DpmSolverPP, &c, 10).unwrap();
        assert_eq!(
            p.timesteps(),
            &[999, 899, 799, 699, 599, 500, 400, 300, 200, 100]
        );
        assert_eq!(trailing(1000, 4), vec![999, 749, 499, 249]);
    }

    #[test]
    fn bad_schedules_are_errors() {
        let c = sd21(Prediction::Epsilon);
        assert!(Scheduler::new(SchedulerKind::Ddim, &c, 0).is_err());
        assert!(Scheduler::new(SchedulerKind::Ddim, &c, 1001).is_err());
        let mut odd = c.clone();
        odd.beta_schedule = "cosine".into();
        assert!(Scheduler::new(SchedulerKind::Ddim, &odd, 10).is_err());
        let mut s = Scheduler::new(SchedulerKind::Ddpm, &c, 2).unwrap();
        let mut x = vec![0.5; 4];
        assert!(
            s.step(&[0.1; 4], &mut x, None).is_err(),
            "DDPM without noise"
        );
        assert!(s.step(&[0.1; 3], &mut x, Some(&[0.0; 4])).is_err());
    }

    #[test]
    fn a_perfect_prediction_lands_on_the_clean_sample() {
        // With the true noise as the network's output, DDIM (eta 0) and
        // DPM-Solver++ recover x0.
        let mut c = sd21(Prediction::Epsilon);
        c.set_alpha_to_one = true;
        let x0 = [0.3f32, -0.7, 0.9, 0.0];
        let eps = [1.2f32, -0.4, 0.1, -2.0];
        for kind in [SchedulerKind::Ddim, SchedulerKind::DpmSolverPP] {
            let mut s = Scheduler::new(kind, &c, 25).unwrap();
            let t0 = s.timesteps()[0];
            let a = s.alphas_cumprod[t0];
            let mut x: Vec<f32> = x0
                .iter()
                .zip(&eps)
                .map(|(x0, e)| a.sqrt() * x0 + (1.0 - a).sqrt() * e)
                .collect();
            for _ in 0..25 {
                // The noise the current x implies, given the true x0.
                let t = s.timesteps()[s.step_index];
                let a = s.alphas_cumprod[t];
                let out: Vec<f32> = x
                    .iter()
                    .zip(&x0)
                    .map(|(x, x0)| (x - a.sqrt() * x0) / (1.0 - a).sqrt())
                    .collect();
                s.step(&out, &mut x, None).unwrap();
            }
            for (got, want) in x.iter().zip(&x0) {
                assert!((got - want).abs() < 2e-3, "{kind:?}: {got} vs {want}");
            }
        }
    }
}
