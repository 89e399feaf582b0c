// Label pass: per pixel planar depth, view-space normal and instance id.
//
// Output (Rgba32Float): r = planar depth in metres (distance along the optical
// axis), g, b = x, y of the unit normal in Bevy's view frame (x right, y up,
// z toward the viewer), a = instance id + 0.5 when the normal's z is negative
// (so z can be rebuilt with its sign on the CPU).

#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_view_bindings::view

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> label: vec4<u32>;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let view_pos = view.view_from_world * vec4<f32>(in.world_position.xyz, 1.0);
    let n = normalize((view.view_from_world * vec4<f32>(in.world_normal, 0.0)).xyz);
    let sign_flag = select(0.0, 0.5, n.z < 0.0);
    return vec4<f32>(-view_pos.z, n.x, n.y, f32(label.x) + sign_flag);
}
