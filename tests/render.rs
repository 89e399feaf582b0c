//! Renderer tests against known geometry (run on lavapipe where there is no GPU).

mod common;

use common::RENDER;
use common::scene::*;

use engine::render::{LightClusters, RenderJob, RenderSettings, render};
use scenes::{Config, LightKind, SceneSpec, View};

#[test]
fn wall_depth_floor_normal_and_unit_normals() {
    let view = wall_view();
    let s = &render_specs(vec![room(vec![view], vec![])], 128)[0];
    let n = s.pixels();
    let (mut wall, mut floor) = (0, 0);
    let r = s.meta.world_from_camera;
    for i in 0..n {
        let nc = [
            s.normal_camera[3 * i],
            s.normal_camera[3 * i + 1],
            s.normal_camera[3 * i + 2],
        ];
        let len = nc.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((len - 1.0).abs() < 1e-3, "pixel {i}: normal length {len}");
        match s.instance[i] {
            3 => {
                wall += 1;
                assert!(
                    (s.depth_m[i] - 3.0).abs() < 0.03,
                    "wall pixel {i}: depth {}",
                    s.depth_m[i]
                );
            }
            1 => {
                floor += 1;
                let nw: Vec<f64> = (0..3)
                    .map(|row| (0..3).map(|k| r[row][k] * f64::from(nc[k])).sum())
                    .collect();
                let a = angle_deg([nw[0], nw[1], nw[2]], [0.0, 1.0, 0.0]);
                assert!(a < 2.0, "floor pixel {i}: normal {a:.2}° from up");
            }
            _ => {}
        }
    }
    assert!(
        wall > n / 4,
        "the wall fills the middle of the view ({wall} px)"
    );
    assert!(floor > n / 20, "the floor shows at the bottom ({floor} px)");
    // Back-project the central wall pixel with the intrinsics: it lies on z = -3 in the world.
    let k = s.meta.intrinsics;
    let (u, v) = (64usize, 64usize);
    let d = f64::from(s.depth_m[v * 128 + u]);
    let pc = [
        (u as f64 - k.cx) / k.fx * d,
        (v as f64 - k.cy) / k.fy * d,
        d,
    ];
    let pw: Vec<f64> = (0..3)
        .map(|row| (0..3).map(|c| r[row][c] * pc[c]).sum::<f64>() + r[row][3])
        .collect();
    assert!(
        (pw[2] + 3.0).abs() < 0.03 && (pw[1] - 1.5).abs() < 0.05,
        "{pw:?}"
    );
}

/// Pixels reachable from `start` through non-contour pixels (4-connected).
fn flood(contour: &[u8], w: usize, h: usize, start: usize) -> Vec<bool> {
    let mut seen = vec![false; w * h];
    let mut stack = vec![start];
    while let Some(p) = stack.pop() {
        if seen[p] || contour[p] != 0 {
            continue;
        }
        seen[p] = true;
        let (x, y) = (p % w, p / w);
        if x > 0 {
            stack.push(p - 1);
        }
        if x + 1 < w {
            stack.push(p + 1);
        }
        if y > 0 {
            stack.push(p - w);
        }
        if y + 1 < h {
            stack.push(p + w);
        }
    }
    seen
}

#[test]
fn one_object_on_the_floor_gets_one_closed_outline() {
    // Looking down at a box on the floor: only the floor and the box are in view.
    let view = View {
        eye: [0.0, 2.0, 1.2],
        target: [0.0, 0.0, 0.0],
        vfov_deg: 50.0,
        near: 0.05,
        far: 20.0,
    };
    let cube = slab(7, "clutter", [0.5, 0.4, 0.4], [0.0, 0.2, 0.0]);
    let s = &render_specs(vec![room(vec![view], vec![cube])], 128)[0];
    let (w, h) = (128usize, 128usize);
    let ids: std::collections::BTreeSet<u16> = s.instance.iter().copied().collect();
    assert_eq!(
        ids,
        [1u16, 7].into_iter().collect(),
        "view shows floor and box only"
    );
    // Every contour pixel lies on an instance change or a depth jump; across every
    // instance change exactly the nearer pixel is marked (one pixel wide).
    for p in 0..w * h {
        let (x, y) = (p % w, p / w);
        let mut nbrs = vec![];
        if x > 0 {
            nbrs.push(p - 1);
        }
        if x + 1 < w {
            nbrs.push(p + 1);
        }
        if y > 0 {
            nbrs.push(p - w);
        }
        if y + 1 < h {
            nbrs.push(p + w);
        }
        let changes = nbrs.iter().any(|&q| s.instance[q] != s.instance[p]);
        let jump = nbrs
            .iter()
            .any(|&q| (s.depth_m[q] - s.depth_m[p]).abs() > 0.1 * s.depth_m[p].min(s.depth_m[q]));
        if s.contour[p] == 255 {
            assert!(changes || jump, "contour pixel ({x},{y}) is on no change");
        }
        for &q in &nbrs {
            if s.instance[q] != s.instance[p] {
                let nearer = if s.depth_m[q] < s.depth_m[p] { q } else { p };
                assert_eq!(
                    s.contour[nearer], 255,
                    "instance change at ({x},{y}) unmarked on its nearer side"
                );
            }
        }
    }
    let on_box = (0..w * h)
        .filter(|&p| s.contour[p] == 255 && s.instance[p] == 7)
        .count();
    let on_floor = (0..w * h)
        .filter(|&p| s.contour[p] == 255 && s.instance[p] == 1)
        .count();
    assert!(
        on_box > 3 * on_floor,
        "the outline lies mostly on the box, the occluder ({on_box} vs {on_floor})"
    );
    // Closed: from the image corner, the floor is reachable but no box pixel is.
    let outside = flood(&s.contour, w, h, 0);
    assert!(s.instance[0] == 1 && outside[0]);
    let inside_box = (0..w * h)
        .filter(|&p| s.instance[p] == 7 && s.contour[p] == 0)
        .count();
    assert!(
        inside_box > 100,
        "the box interior is visible ({inside_box} px)"
    );
    assert!(
        (0..w * h).all(|p| !(outside[p] && s.instance[p] == 7)),
        "outline has a gap"
    );
}

#[test]
fn same_frames_render_identically_and_streams_stop_when_dropped() {
    let config = Config::default();
    let specs: Vec<SceneSpec> = (0..2)
        .map(|i| scenes::generate(&config, scenes::scene_seed(5, i), 2))
        .collect();
    let a = render_specs(specs.clone(), 64);
    let b = render_specs(specs, 64);
    assert_eq!(a.len(), 4);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.meta, y.meta);
        assert_eq!(x.depth_m, y.depth_m);
        assert_eq!(x.instance, y.instance);
        assert_eq!(x.contour, y.contour);
    }
    assert_ne!(a[0].depth_m, a[2].depth_m, "different scenes differ");

    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let mut stream =
        engine::stream(config.clone(), 1, 2, RenderSettings::new(64, &config)).expect("stream");
    let keys: Vec<String> = stream
        .by_ref()
        .take(5)
        .map(|s| s.expect("frame").meta.key)
        .collect();
    assert_eq!(keys.len(), 5);
    let t = std::time::Instant::now();
    drop(stream);
    assert!(
        t.elapsed().as_secs() < 60,
        "dropping the stream shuts the renderer down"
    );
}

#[test]
fn first_frame_of_a_new_scene_is_fully_drawn() {
    // Two scenes, each with the same view twice: the frame right after a scene is
    // spawned must equal the next one (no object, material or shadow missing).
    let config = Config::default();
    let specs: Vec<SceneSpec> = (0..2)
        .map(|i| {
            let mut s = scenes::generate(&config, scenes::scene_seed(9, i), 1);
            let v = s.views[0].clone();
            s.views.push(v);
            s
        })
        .collect();
    let out = render_specs(specs, 64);
    assert_eq!(out.len(), 4);
    for pair in out.chunks(2) {
        assert_eq!(
            pair[0].rgb, pair[1].rgb,
            "first frame of {} differs from the second",
            pair[0].meta.key
        );
        assert_eq!(pair[0].instance, pair[1].instance);
    }
}

#[test]
fn a_frame_never_shows_the_previous_frame_where_it_draws_nothing() {
    // The cameras load their targets instead of clearing them (the readback
    // clears them after each copy). A full room, then the same view of one box
    // in empty space: the box's frame leaves most pixels without a surface, so
    // it must be reported as not rendered completely, not filled in with the
    // room's pixels (which would pass the completeness check).
    let view = wall_view();
    let full = room(vec![view.clone(); 2], vec![]);
    let mut lone = room(
        vec![view; 2],
        vec![slab(7, "box", [0.5; 3], [0.0, 1.5, -2.0])],
    );
    lone.objects.retain(|o| o.instance_id == 7);
    let mut settings = RenderSettings::new(48, &Config::default());
    settings.views_per_pass = 2;
    settings.max_attempts = 3;
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let frames: Vec<_> = render(RenderJob::specs(vec![full, lone], settings))
        .expect("renderer starts")
        .collect();
    assert!(frames.len() >= 2 && frames[..2].iter().all(|f| f.is_ok()));
    let room_frame = frames[0].as_ref().map(|s| s.instance.clone());
    assert!(room_frame.is_ok_and(|ids| ids.iter().all(|&id| id != 0)));
    let err = frames[2..].iter().find_map(|f| f.as_ref().err());
    assert!(
        err.is_some_and(|e| e.to_string().contains("did not render completely")),
        "{:?}",
        frames
            .iter()
            .map(|f| f
                .as_ref()
                .map(|s| s.meta.key.clone())
                .map_err(|e| e.to_string()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn views_rendered_together_equal_views_rendered_one_by_one() {
    // Three scenes of three views, with shadows: passes of 1, of 2 (a pass never
    // spans two scenes, so each scene is a pass of 2 and one of 1) and of 4 (one
    // pass per scene, one pair idle) must give the same pixels and labels.
    // Scenes 0 and 2 have point lights only; scene 1 also a spot and a sun (with
    // Bevy's default light clusters, views after the first of a pass lost parts
    // of the spot light; see `driver::view_clusters`).
    let config = Config::default();
    let specs: Vec<SceneSpec> = (0..3)
        .map(|i| scenes::generate(&config, scenes::scene_seed(150, i), 3))
        .collect();
    let has = |s: &SceneSpec, spot: bool| {
        s.lights.iter().any(|l| match l.kind {
            LightKind::Spot { .. } => spot,
            LightKind::Directional { .. } => !spot,
            LightKind::Point { .. } => false,
        })
    };
    assert!(!has(&specs[0], true) && has(&specs[1], true) && !has(&specs[2], true));
    assert!(has(&specs[1], false), "scene 1 has a sun too");
    assert!(specs.iter().all(|s| s.lights.iter().all(|l| l.shadows)));
    let with_profile = |views_per_pass: u32, labels: bool, profile: scenes::ShadingProfile| {
        let mut settings = RenderSettings::new(48, &config);
        settings.views_per_pass = views_per_pass;
        settings.labels = labels;
        settings.profile = profile;
        render_with(specs.clone(), settings)
    };
    let with =
        |views_per_pass, labels| with_profile(views_per_pass, labels, scenes::ShadingProfile::Full);
    // RGB only: every scene in passes of up to four, in both profiles (each
    // reads the shadow maps its own way).
    let fast = scenes::ShadingProfile::Fast;
    let (one, many) = (with_profile(1, false, fast), with_profile(4, false, fast));
    for (a, b) in one.iter().zip(&many) {
        assert!(
            a.rgb == b.rgb,
            "{}: fast RGB-only frame differs",
            a.meta.key
        );
    }
    let (one, many) = (with(1, false), with(4, false));
    assert_eq!(one.len(), 9);
    for (a, b) in one.iter().zip(&many) {
        assert!(a.rgb == b.rgb, "{}: RGB-only frame differs", a.meta.key);
    }
    let rgb_only = one;
    let one = with(1, true);
    assert_eq!(one.len(), 9);
    // RGB only shows the same image as with labels.
    for (a, b) in rgb_only.iter().zip(&one) {
        assert!(a.rgb == b.rgb, "{}: RGB-only image differs", a.meta.key);
    }
    for k in [2, 4] {
        let many = with(k, true);
        assert_eq!(many.len(), one.len());
        for (a, b) in one.iter().zip(&many) {
            assert_eq!(a.meta, b.meta, "{k} views per pass");
            assert!(
                a.rgb == b.rgb,
                "{}: RGB differs at {k} views per pass",
                a.meta.key
            );
            assert_eq!(a.depth_m, b.depth_m, "{}", a.meta.key);
            assert_eq!(a.normal_camera, b.normal_camera, "{}", a.meta.key);
            assert_eq!(a.instance, b.instance, "{}", a.meta.key);
        }
    }
    // Different views of a scene really differ (each pair was aimed on its own).
    assert_ne!(one[0].depth_m, one[1].depth_m);
    let bad = RenderSettings {
        views_per_pass: 0,
        ..RenderSettings::new(48, &config)
    };
    let err = render(RenderJob::specs(specs, bad))
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref().is_some_and(|e| e.contains("views_per_pass")),
        "{err:?}"
    );
}

#[test]
fn fast_profile_keeps_the_labels_and_records_itself() {
    let mut config = Config::default();
    // Seed 11's scenes: point lights; a spot and a sun; point lights again.
    let specs: Vec<SceneSpec> = (0..3)
        .map(|i| scenes::generate(&config, scenes::scene_seed(11, i), 1))
        .collect();
    let full = render_with(specs.clone(), RenderSettings::new(48, &config));
    config.render.profile = scenes::ShadingProfile::Fast;
    let fast = render_with(specs, RenderSettings::new(48, &config));
    for (a, b) in full.iter().zip(&fast) {
        assert_eq!(a.meta.shading_profile, "full");
        assert_eq!(b.meta.shading_profile, "fast");
        assert_eq!(a.depth_m, b.depth_m);
        assert_eq!(a.instance, b.instance);
        assert_ne!(a.rgb, b.rgb, "fast shading changes the image");
        // Simple lighting under the same lights: lit, not blown out, and bright
        // where the full shading is bright.
        let (fa, fb) = (luma(&a.rgb), luma(&b.rgb));
        let mean = fb.iter().sum::<f64>() / fb.len() as f64;
        let saturated = b.rgb.iter().filter(|&&v| v == 255).count() as f64 / b.rgb.len() as f64;
        let r = correlation(&fa, &fb);
        eprintln!(
            "{}: fast mean {mean:.1}, saturated {saturated:.3}, correlation with full {r:.3}",
            b.meta.key
        );
        assert!(
            mean > 20.0 && saturated < 0.05,
            "{}: mean {mean}, saturated {saturated}",
            b.meta.key
        );
        assert!(
            r > 0.6,
            "{}: fast and full shading correlate at {r}",
            b.meta.key
        );
    }
}

#[test]
fn fast_profile_shadows_only_darken() {
    // Seed 11's scenes (point lights; a spot and a sun; point lights) in the fast
    // profile, with and without shadow maps: shadows take light away, never add
    // it, and they do take some away in every scene.
    let mut config = Config::default();
    config.render.profile = scenes::ShadingProfile::Fast;
    let specs: Vec<SceneSpec> = (0..3)
        .map(|i| scenes::generate(&config, scenes::scene_seed(11, i), 1))
        .collect();
    assert!(specs.iter().all(|s| s.lights.iter().all(|l| l.shadows)));
    let mut unshadowed = specs.clone();
    for light in unshadowed.iter_mut().flat_map(|s| s.lights.iter_mut()) {
        light.shadows = false;
    }
    let on = render_with(specs, RenderSettings::new(64, &config));
    let off = render_with(unshadowed, RenderSettings::new(64, &config));
    for (a, b) in on.iter().zip(&off) {
        assert_eq!(a.instance, b.instance);
        // One 8-bit step of rounding either way.
        let brighter = a
            .rgb
            .iter()
            .zip(&b.rgb)
            .filter(|&(x, y)| *x > y.saturating_add(1))
            .count();
        let (la, lb) = (luma(&a.rgb), luma(&b.rgb));
        let darker =
            la.iter().zip(&lb).filter(|&(x, y)| x + 8.0 < *y).count() as f64 / la.len() as f64;
        eprintln!(
            "{}: {darker:.3} of pixels in shadow, {brighter} values brighter",
            a.meta.key
        );
        assert_eq!(brighter, 0, "{}: a shadow added light", a.meta.key);
        assert!(
            darker > 0.02,
            "{}: only {darker} of pixels in shadow",
            a.meta.key
        );
    }
}

/// Per-pixel luma of RGB8 values.
fn luma(rgb: &[u8]) -> Vec<f64> {
    rgb.chunks_exact(3)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect()
}

/// Pearson correlation of two equally long series.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt().max(f64::MIN_POSITIVE)
}

#[test]
fn coarse_light_clusters_keep_every_light() {
    // The default light-cluster grid is far coarser than Bevy's (it costs CPU
    // per view); it must still give the pixels of Bevy's 4,096-cluster grid, in
    // scenes lit by several spot lights (the lights a too-coarse grid loses).
    let mut config = Config::default();
    config.lights.count = scenes::config::CountRange(3, 6);
    config.lights.spot_probability = 1.0;
    let specs: Vec<SceneSpec> = (0..6)
        .map(|i| scenes::generate(&config, scenes::scene_seed(23, i), 4))
        .collect();
    let with = |light_clusters: LightClusters| {
        let mut settings = RenderSettings::new(96, &config);
        settings.labels = false;
        settings.profile = scenes::ShadingProfile::Fast;
        settings.light_clusters = light_clusters;
        render_with(specs.clone(), settings)
    };
    let bevy_default = with(LightClusters {
        total: 4096,
        z_slices: 24,
    });
    let ours = with(LightClusters::default());
    assert_eq!(ours.len(), 24);
    for (a, b) in bevy_default.iter().zip(&ours) {
        assert!(a.rgb == b.rgb, "{}: RGB differs", a.meta.key);
    }
    // A grid with no depth slice, or more slices than clusters, is refused.
    for (total, z_slices) in [(256, 0), (4, 8), (8192, 8)] {
        let mut bad = RenderSettings::new(96, &config);
        bad.light_clusters = LightClusters { total, z_slices };
        let err = render(RenderJob::specs(specs.clone(), bad))
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("light_clusters")),
            "{total}/{z_slices}: {err:?}"
        );
    }
}
