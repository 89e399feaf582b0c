// One pass for the image and every label: the part's shading, plus its planar
// depth, view-space normal and instance id, packed into one Rgba32Float pixel
// whose channels all hold exact integers or plain floats:
//
//   r = planar depth in metres (distance along the optical axis);
//   g = hi12(u) * 4096 + hi12(v), the top 12 bits of the octahedral normal;
//   b = instance id * 256 + lo4(u) * 16 + lo4(v), the id and the normal's low bits;
//   a = R * 65536 + G * 256 + B, the shaded colour as 8-bit sRGB.
//
// u, v are the normal's octahedral coordinates in Bevy's view frame (x right,
// y up, z toward the viewer), each mapped from [-1, 1] to 16 bits. Every value
// stays below 2^24, so f32 holds it exactly. A cleared pixel (all zero) reads as
// no surface: instance id 0, black. `engine::render::assemble` decodes it.
//
// Shading: Bevy's PBR (the full profile), or with SIMPLE_LIGHTING (the fast
// profile) the Lambert model of `simple_lighting`.

#import bevy_pbr::{
    forward_io::VertexOutput,
    mesh_view_bindings::view,
}
#ifdef SIMPLE_LIGHTING
#import bevy_pbr::{
    clustered_forward as clustering,
    lighting::getDistanceAttenuation,
    mesh_view_bindings::{clustered_lights, lights},
    mesh_view_types::{
        DIRECTIONAL_LIGHT_FLAGS_SHADOWS_ENABLED_BIT, POINT_LIGHT_FLAGS_SHADOWS_ENABLED_BIT,
        POINT_LIGHT_FLAGS_SPOT_LIGHT_Y_NEGATIVE,
    },
    pbr_bindings,
    pbr_types::STANDARD_MATERIAL_FLAGS_BASE_COLOR_TEXTURE_BIT,
    shadows,
}
#ifdef TONEMAP_IN_SHADER
#import bevy_core_pipeline::tonemapping::tone_mapping
#endif
#else
#import bevy_pbr::{
    pbr_fragment::pbr_input_from_standard_material,
    pbr_functions::{alpha_discard, apply_pbr_lighting, main_pass_post_lighting_processing},
}
#endif

// x = instance id.
@group(#{MATERIAL_BIND_GROUP}) @binding(100) var<uniform> label: vec4<u32>;

#ifdef SIMPLE_LIGHTING
const INV_PI: f32 = 0.31830988618;

// Base colour (times its texture) of the part, less its metallic share.
fn diffuse_colour(in: VertexOutput) -> vec3<f32> {
    var colour = pbr_bindings::material.base_color.rgb;
#ifdef VERTEX_UVS_A
    if (pbr_bindings::material.flags & STANDARD_MATERIAL_FLAGS_BASE_COLOR_TEXTURE_BIT) != 0u {
        let uv = (pbr_bindings::material.uv_transform * vec3(in.uv, 1.0)).xy;
        colour *= textureSampleBias(
            pbr_bindings::base_color_texture, pbr_bindings::base_color_sampler, uv, view.mip_bias
        ).rgb;
    }
#endif
    return colour * (1.0 - pbr_bindings::material.metallic);
}

// Light arriving from clustered point or spot light `light_id` at `p` (unit
// normal `n`) before its shadow: colour × Bevy's range falloff × n·l, and the
// spot cone when `spot`.
fn clustered_light(light_id: u32, p: vec3<f32>, n: vec3<f32>, spot: bool) -> vec3<f32> {
    let light = &clustered_lights.data[light_id];
    let to_light = (*light).position_radius.xyz - p;
    let distance_squared = dot(to_light, to_light);
    let l = to_light * inverseSqrt(max(distance_squared, 1e-8));
    var falloff = getDistanceAttenuation(distance_squared, (*light).color_inverse_square_range.w);
    if spot {
        var spot_dir = vec3((*light).light_custom_data.x, 0.0, (*light).light_custom_data.y);
        spot_dir.y = sqrt(max(0.0, 1.0 - spot_dir.x * spot_dir.x - spot_dir.z * spot_dir.z));
        if ((*light).flags & POINT_LIGHT_FLAGS_SPOT_LIGHT_Y_NEGATIVE) != 0u {
            spot_dir.y = -spot_dir.y;
        }
        let cone = saturate(dot(-spot_dir, l) * (*light).light_custom_data.z + (*light).light_custom_data.w);
        falloff *= cone * cone;
    }
    return (*light).color_inverse_square_range.rgb * falloff * max(dot(n, l), 0.0);
}

// The share of clustered light `light_id` its shadow map lets through to the
// fragment: 1 where the light casts no shadow, or without SIMPLE_SHADOWS.
fn clustered_shadow(light_id: u32, in: VertexOutput, n: vec3<f32>, spot: bool) -> f32 {
#ifdef SIMPLE_SHADOWS
    let light = &clustered_lights.data[light_id];
    if ((*light).flags & POINT_LIGHT_FLAGS_SHADOWS_ENABLED_BIT) != 0u {
        if spot {
            return shadows::fetch_spot_shadow(
                light_id, in.world_position, n, (*light).shadow_map_near_z, in.position.xy
            );
        }
        return shadows::fetch_point_shadow(light_id, in.world_position, n, in.position.xy);
    }
#endif
    return 1.0;
}

// Light from clustered light `light_id` at the fragment after its shadow; the
// shadow map is read only where the light reaches the surface.
fn shadowed_light(light_id: u32, in: VertexOutput, n: vec3<f32>, spot: bool) -> vec3<f32> {
    let light = clustered_light(light_id, in.world_position.xyz, n, spot);
    if any(light > vec3(0.0)) {
        return light * clustered_shadow(light_id, in, n, spot);
    }
    return light;
}

// The share of directional light `i` its shadow cascades let through.
fn directional_shadow(i: u32, in: VertexOutput, n: vec3<f32>, view_z: f32) -> f32 {
#ifdef SIMPLE_SHADOWS
    if (lights.directional_lights[i].flags & DIRECTIONAL_LIGHT_FLAGS_SHADOWS_ENABLED_BIT) != 0u {
        return shadows::fetch_directional_shadow(i, in.world_position, n, view_z, in.position.xy);
    }
#endif
    return 1.0;
}

// Lambert diffuse under the same lights as the PBR path (the fragment's cluster
// of point and spot lights, every directional light, the ambient light) with
// the same units, range falloff, spot cones and exposure, and the camera's
// tone mapping; no specular term, no dithering. With SIMPLE_SHADOWS (a scene
// whose lights cast shadows) it reads the shadow maps where a light reaches
// the surface, with the camera's filter (the fast profile's cameras ask for
// one hardware 2×2 comparison per light); without it no shadow code is
// compiled in, since a CPU rasteriser runs both sides of a branch. Much
// cheaper per pixel on a CPU rasteriser than PBR.
fn simple_lighting(in: VertexOutput, albedo: vec3<f32>, n: vec3<f32>) -> vec3<f32> {
    var direct = vec3(0.0);
    let view_z = dot(vec4<f32>(
        view.view_from_world[0].z,
        view.view_from_world[1].z,
        view.view_from_world[2].z,
        view.view_from_world[3].z
    ), in.world_position);
    let cluster = clustering::view_fragment_cluster_index(in.position.xy, view_z, false);
    let ranges = clustering::unpack_clusterable_object_index_ranges(cluster);
    // Point and spot lights in loops of their own, so each compiles one kind of
    // shadow fetch.
    for (var i = ranges.first_point_light_index_offset;
            i < ranges.first_spot_light_index_offset;
            i = i + 1u) {
        direct += shadowed_light(clustering::get_clusterable_object_id(i), in, n, false);
    }
    for (var i = ranges.first_spot_light_index_offset;
            i < ranges.first_reflection_probe_index_offset;
            i = i + 1u) {
        direct += shadowed_light(clustering::get_clusterable_object_id(i), in, n, true);
    }
    for (var i = 0u; i < lights.n_directional_lights; i = i + 1u) {
        let light = lights.directional_lights[i].color.rgb
            * max(dot(n, lights.directional_lights[i].direction_to_light), 0.0);
        if any(light > vec3(0.0)) {
            direct += light * directional_shadow(i, in, n, view_z);
        }
    }
    let colour = albedo * (direct * INV_PI + lights.ambient_color.rgb) * view.exposure;
#ifdef TONEMAP_IN_SHADER
    return tone_mapping(vec4(colour, 1.0), view.color_grading).rgb;
#else
    return colour;
#endif
}
#endif

// Linear → sRGB-encoded, the transfer function an Rgba8UnormSrgb target applies.
fn srgb_encode(c: vec3<f32>) -> vec3<f32> {
    let x = clamp(c, vec3(0.0), vec3(1.0));
    let low = x * 12.92;
    let high = 1.055 * pow(x, vec3(1.0 / 2.4)) - 0.055;
    return select(high, low, x <= vec3(0.0031308));
}

// Octahedral coordinates of a unit vector, in [-1, 1]².
fn octahedral(n: vec3<f32>) -> vec2<f32> {
    let p = n.xy / (abs(n.x) + abs(n.y) + abs(n.z));
    if n.z >= 0.0 {
        return p;
    }
    let s = select(vec2(-1.0), vec2(1.0), p >= vec2(0.0));
    return (1.0 - abs(p.yx)) * s;
}

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) is_front: bool) -> @location(0) vec4<f32> {
    let world_normal = normalize(in.world_normal);
#ifdef SIMPLE_LIGHTING
    let lit = simple_lighting(in, diffuse_colour(in), world_normal);
#else
    var pbr_input = pbr_input_from_standard_material(in, is_front);
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);
    let lit = main_pass_post_lighting_processing(pbr_input, apply_pbr_lighting(pbr_input)).rgb;
#endif
    let rgb = vec3<u32>(round(srgb_encode(lit) * 255.0));

    let view_pos = view.view_from_world * vec4<f32>(in.world_position.xyz, 1.0);
    let n = normalize((view.view_from_world * vec4<f32>(world_normal, 0.0)).xyz);
    let uv = vec2<u32>(round((octahedral(n) * 0.5 + 0.5) * 65535.0));
    let hi = uv >> vec2(4u);
    let lo = uv & vec2(15u);

    return vec4<f32>(
        -view_pos.z,
        f32(hi.x * 4096u + hi.y),
        f32(label.x * 256u + lo.x * 16u + lo.y),
        f32(rgb.r * 65536u + rgb.g * 256u + rgb.b),
    );
}
