//! The VLM agent: the VLM reads the photo and the words and proposes; the offline
//! agent's reading of the words and the measurements check. Every step that fails
//! (server down, timeout, a reply that is not the JSON asked for) falls back to the
//! offline agent for that step, and the trace says so.

use super::client::{Message, Part, VlmClient, VlmError};
use super::prompts;
use super::reply::{
    check_edits, normalise_region, parse, ClassifyReply, EditsReply, RethinkReply, SceneReply,
};
use crate::agent::rethink::{Advice, Advisor, RethinkContext};
use crate::agent::{interpret, wording_intensity, Edit, Interpretation, Kind, NotUnderstood, Plan};
use crate::params::{Attribute, GLOBAL};
use crate::raster::Raster;
use crate::render::CancelToken;

/// The agent over an OpenAI-compatible VLM server.
#[derive(Debug)]
pub struct VlmAgent {
    client: VlmClient,
    /// Region names shown to the VLM as findable.
    regions: Vec<String>,
    /// Set once the server could not be reached: later steps of the session go
    /// straight to the offline agent instead of waiting through retries again.
    unreachable: std::sync::atomic::AtomicBool,
}

impl VlmAgent {
    pub fn new(client: VlmClient, regions: Vec<String>) -> Self {
        VlmAgent {
            client,
            regions,
            unreachable: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn client(&self) -> &VlmClient {
        &self.client
    }

    fn ask(&self, parts: Vec<Part>, cancel: Option<&CancelToken>) -> Result<String, VlmError> {
        use std::sync::atomic::Ordering;
        if self.unreachable.load(Ordering::Relaxed) {
            return Err(VlmError::Unreachable {
                url: self.client.config().base_url.clone(),
                reason: "it could not be reached earlier in this session".into(),
            });
        }
        let messages = [
            Message::system(prompts::system(&self.regions)),
            Message::user(parts),
        ];
        let r = self.client.chat(&messages, cancel);
        if matches!(r, Err(VlmError::Unreachable { .. })) {
            self.unreachable.store(true, Ordering::Relaxed);
        }
        r
    }

    /// Session start: the VLM's scene tags (at most 8) and greeting.
    pub fn scene(
        &self,
        photo: &Raster,
        cancel: Option<&CancelToken>,
    ) -> Result<(Vec<String>, String), VlmError> {
        let text = self.ask(
            vec![Part::Image(photo.clone()), Part::Text(prompts::scene())],
            cancel,
        )?;
        let r: SceneReply = parse(&text, "scene")?;
        let tags = r.clean_tags();
        if tags.is_empty() {
            return Err(VlmError::BadReply("the scene reply has no tags".into()));
        }
        Ok((tags, r.greeting.trim().to_string()))
    }

    /// Reads `instruction` for `photo`. `finds` says which region names the
    /// segmenters can find. Errors only when neither the VLM nor the offline agent
    /// can make sense of the words.
    pub fn plan(
        &self,
        instruction: &str,
        photo: &Raster,
        finds: &dyn Fn(&str) -> bool,
        cancel: Option<&CancelToken>,
    ) -> Result<Plan, NotUnderstood> {
        let offline = interpret(instruction);
        let mut trace = Vec::new();
        let fallback = |trace: Vec<String>, step: &str, e: &dyn std::fmt::Display| {
            let mut trace = trace;
            trace.push(format!(
                "VLM {step} failed ({e}); the offline agent read the instruction"
            ));
            offline.clone().map(|interpretation| Plan {
                interpretation,
                start: None,
                notes: Vec::new(),
                trace,
            })
        };
        let kind = match self
            .ask(vec![Part::Text(prompts::classify(instruction))], cancel)
            .and_then(|t| parse::<ClassifyReply>(&t, "classification"))
            .and_then(|r| r.kind())
        {
            Ok(k) => {
                trace.push(format!("VLM classified the instruction as {k:?}"));
                k
            }
            Err(e) => return fallback(trace, "classification", &e),
        };
        match kind {
            Kind::WeakOptimize => Ok(Plan {
                interpretation: Interpretation {
                    kind: Kind::WeakOptimize,
                    edits: Vec::new(),
                    holds: Vec::new(),
                    style: None,
                    notes: Vec::new(),
                },
                start: None,
                notes: Vec::new(),
                trace,
            }),
            Kind::WeakStyle => {
                let reply = self
                    .ask(vec![Part::Text(prompts::style(instruction))], cancel)
                    .and_then(|t| parse::<EditsReply>(&t, "style"))
                    .and_then(|r| check_edits(&r.edits, finds));
                match reply {
                    Ok(c) if !c.edits.is_empty() => {
                        trace.push(format!(
                            "VLM decomposed the look into {} edits",
                            c.edits.len()
                        ));
                        Ok(Plan {
                            interpretation: Interpretation {
                                kind: Kind::WeakStyle,
                                edits: c.edits,
                                holds: Vec::new(),
                                style: None,
                                notes: Vec::new(),
                            },
                            start: None,
                            notes: c.notes,
                            trace,
                        })
                    }
                    Ok(_) => fallback(trace, "style decomposition", &"no usable edits"),
                    Err(e) => fallback(trace, "style decomposition", &e),
                }
            }
            Kind::Strong => {
                let reply = self
                    .ask(
                        vec![
                            Part::Image(photo.clone()),
                            Part::Text(prompts::analyse(instruction)),
                        ],
                        cancel,
                    )
                    .and_then(|t| parse::<EditsReply>(&t, "analysis"))
                    .and_then(|r| Ok((check_edits(&r.edits, finds)?, r.holds)));
                let (checked, holds) = match reply {
                    Ok((c, h)) if !c.edits.is_empty() => (c, h),
                    Ok((c, _)) => {
                        let mut p = fallback(trace, "analysis", &"no usable edits")?;
                        p.notes.extend(c.notes);
                        return Ok(p);
                    }
                    Err(e) => return fallback(trace, "analysis", &e),
                };
                trace.push(format!("VLM proposed {}", describe(&checked.edits)));
                // What the words ask for: the offline reading where it names the same
                // region and attribute, else the VLM's direction at the wording's
                // intensity. The VLM's own numbers are where the loop starts.
                let words = offline.as_ref().ok();
                let intensity = wording_intensity(instruction);
                let mut edits = Vec::new();
                let mut start = Vec::new();
                for e in &checked.edits {
                    let asked = words
                        .and_then(|w| {
                            w.edits
                                .iter()
                                .find(|o| o.region == e.region && o.attribute == e.attribute)
                        })
                        .map_or(e.amount.signum() * intensity, |o| o.amount);
                    edits.push(Edit {
                        amount: asked,
                        ..e.clone()
                    });
                    start.push(e.amount);
                }
                trace.push(format!("the words ask for {}", describe(&edits)));
                let holds = holds
                    .iter()
                    .map(|h| normalise_region(h))
                    .filter(|h| h != GLOBAL && finds(h))
                    .collect();
                Ok(Plan {
                    interpretation: Interpretation {
                        kind: Kind::Strong,
                        edits,
                        holds,
                        style: None,
                        notes: Vec::new(),
                    },
                    start: Some(start),
                    notes: checked.notes,
                    trace,
                })
            }
        }
    }

    /// The rethink advisor for one instruction.
    pub fn advisor<'a>(&'a self, cancel: Option<&'a CancelToken>) -> VlmAdvisor<'a> {
        VlmAdvisor {
            agent: self,
            cancel,
        }
    }
}

fn describe(edits: &[Edit]) -> String {
    edits
        .iter()
        .map(|e| format!("{} {} {:+.2}", e.region, e.attribute, e.amount))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The VLM's rethink step, as the loop's [`Advisor`].
pub struct VlmAdvisor<'a> {
    agent: &'a VlmAgent,
    cancel: Option<&'a CancelToken>,
}

impl Advisor for VlmAdvisor<'_> {
    fn rethink(&self, ctx: &RethinkContext<'_>) -> Result<Advice, String> {
        let text = self
            .agent
            .ask(
                vec![
                    Part::Image(ctx.previous.clone()),
                    Part::Image(ctx.current.clone()),
                    Part::Text(prompts::rethink(
                        ctx.instruction,
                        ctx.last_action,
                        ctx.checks,
                        ctx.values,
                    )),
                ],
                self.cancel,
            )
            .map_err(|e| e.to_string())?;
        let r: RethinkReply = parse(&text, "rethink").map_err(|e| e.to_string())?;
        let values = check_edits(&r.edits, &|_| true)
            .map_err(|e| e.to_string())?
            .edits
            .into_iter()
            .map(|e| (e.region, e.attribute, e.amount))
            .collect::<Vec<(String, Attribute, f32)>>();
        Ok(Advice {
            done: r.done,
            values,
            think: r.think,
        })
    }
}

/// A photo's scene for the preference memory: the VLM's tags when it answers (with
/// the built-in features for similarity), the built-in tags otherwise; the VLM's
/// greeting; and a trace line saying which.
pub fn session_scene(
    agent: Option<&VlmAgent>,
    photo: &Raster,
    tables: &crate::measure::LevelTables,
    cancel: Option<&CancelToken>,
) -> (crate::memory::Scene, Option<String>, String) {
    let scene = crate::memory::describe_scene(photo, tables);
    tag_scene(agent, photo, scene, cancel)
}

/// [`session_scene`] from the built-in `scene` of `photo`, already described.
pub fn tag_scene(
    agent: Option<&VlmAgent>,
    photo: &Raster,
    mut scene: crate::memory::Scene,
    cancel: Option<&CancelToken>,
) -> (crate::memory::Scene, Option<String>, String) {
    let Some(agent) = agent else {
        return (scene, None, "scene tags from the built-in segmenter".into());
    };
    match agent.scene(photo, cancel) {
        Ok((tags, greeting)) => {
            let line = format!("scene tags from the VLM: {}", tags.join(", "));
            scene.tags = tags;
            (scene, (!greeting.is_empty()).then_some(greeting), line)
        }
        Err(e) => (
            scene,
            None,
            format!("VLM scene tags failed ({e}); built-in tags used"),
        ),
    }
}
