{
  "targets": [
    {
      "target_name": "time_merge_kernels",
      "sources": [
        "src/addon.c",
        "src/alloc.c",
        "src/breadcrumbs_fused.c",
        "src/cut.c",
        "src/dare.c",
        "src/elementwise.c",
        "src/map.c",
        "src/pool.c",
        "src/reduce.c",
        "src/select.c",
        "src/select_bracket.c",
        "src/simd.c",
        "src/ties.c",
        "src/ties_fused.c",
        "src/ties_lanes.c"
      ],
      "cflags!": ["-O2", "-O0", "-Os"],
      "cflags": ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-trapping-math", "-fno-math-errno", "-pthread", "-Wall", "-Wno-unused-parameter", "-Werror"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-ffp-contract=off"]
      }
    }
  ]
}
