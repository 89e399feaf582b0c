// One pass for the image and every label: the standard PBR shading of the part,
// plus its planar depth, view-space normal and instance id, packed into one
// Rgba32Float pixel whose channels all hold exact integers or plain floats:
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

#import bevy_pbr::{
    forward_io::VertexOutput,
    mesh_view_bindings::view,
    pbr_fragment::pbr_input_from_standard_material,
    pbr_functions::{alpha_discard, apply_pbr_lighting, main_pass_post_lighting_processing},
}

@group(#{MATERIAL_BIND_GROUP}) @binding(100) var<uniform> label: vec4<u32>;

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
    var pbr_input = pbr_input_from_standard_material(in, is_front);
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);
    let lit = main_pass_post_lighting_processing(pbr_input, apply_pbr_lighting(pbr_input));
    let rgb = vec3<u32>(round(srgb_encode(lit.rgb) * 255.0));

    let view_pos = view.view_from_world * vec4<f32>(in.world_position.xyz, 1.0);
    let n = normalize((view.view_from_world * vec4<f32>(in.world_normal, 0.0)).xyz);
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
