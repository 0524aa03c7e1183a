// swift-tools-version:6.2
import Foundation
import PackageDescription

/// Tollgate: an AI gateway. One executable (`tollgate`) with subcommands; each process role
/// (supervisor, controller, worker, mock provider) lives in its own module so the folder
/// layout shows the architecture. See docs/architecture.md.
let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tollgate", targets: ["tollgate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // The management plane only (`tollgate control-plane`): HTTP server and its two stores.
        // No default traits for Hummingbird: they pull in swift-configuration, unused here.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // C shims: atomics on shared (mmap'd) memory and Linux process helpers.
        .target(name: "CTollgate"),
        // hiredis (Debian's libhiredis-dev), for the controller's Redis quota sync.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        // Shared, dependency-light building blocks: JSON scanning, error bodies, logging.
        .target(
            name: "TollgateCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Local guardrails: PII/secret detectors, keyword and injection matching, redaction,
        // JSON body rewriting and the streaming hold-back scanner. Pure Swift over bytes.
        .target(name: "Guardrails", dependencies: ["TollgateCore"]),
        // Config schema, YAML loading + validation, and the binary snapshot format.
        .target(
            name: "Config",
            dependencies: [
                "TollgateCore", "Guardrails",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // libmodsecurity (Debian: libmodsecurity-dev), the engine behind the optional WAF filter.
        .systemLibrary(
            name: "CModSecurity",
            pkgConfig: "modsecurity",
            providers: [.apt(["libmodsecurity-dev"])]
        ),
        // ModSecurity v3 + OWASP CRS behind a Swift API: one compiled engine per config
        // generation, one synchronous inspection per request.
        .target(name: "WAF", dependencies: ["CModSecurity", "Config"]),
        // Memory shared by all processes of one pod: control block (config generation, stats)
        // and the quota table.
        .target(name: "SharedState", dependencies: ["CTollgate"]),
        // Compiles config sources into snapshots; runs the quota table's GC and Redis sync.
        .target(
            name: "Controller",
            dependencies: ["Config", "SharedState", "TollgateCore", "QuotaCluster",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "_CryptoExtras", package: "swift-crypto")]
        ),
        // Cluster-wide quotas through Redis (hiredis): the controller's sync loop and the
        // workers' strict per-request checks.
        .target(
            name: "QuotaCluster",
            dependencies: ["Config", "SharedState", "CHiredis", .product(name: "Logging", package: "swift-log")]
        ),
        // The SwiftNIO proxy: listener, filter chain, router, upstream pool.
        .target(
            name: "Worker",
            dependencies: [
                "Config", "SharedState", "TollgateCore", "CTollgate", "WAF", "QuotaCluster", "Guardrails",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Pre-forks and supervises the controller and the workers.
        .target(
            name: "Supervisor",
            dependencies: ["Config", "Controller", "SharedState", "TollgateCore", "CTollgate",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // A provider that speaks the upstream wire formats, with latency and fault injection.
        .target(
            name: "MockProvider",
            dependencies: [
                "TollgateCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The management plane's storage: one backend protocol, SQLite (sqlite-nio) and
        // PostgreSQL (postgres-nio) behind it, versioned migrations, the hash-chained audit log.
        .target(
            name: "ControlPlaneStore",
            dependencies: [
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // `tollgate control-plane`: the REST API (Hummingbird 2) over ControlPlaneStore,
        // access control, provider credential sealing, config rendering for data planes.
        .target(
            name: "ControlPlane",
            dependencies: [
                "ControlPlaneStore", "Config", "TollgateCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "tollgate",
            dependencies: [
                "ControlPlane", "Config", "Controller", "Worker", "Supervisor", "MockProvider", "SharedState", "TollgateCore", "WAF", "Guardrails",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test support: a small blocking HTTP client and helpers that spawn the real binary.
        .target(name: "TollgateTesting", dependencies: ["TollgateCore"], path: "Tests/TollgateTesting"),
        .testTarget(name: "TollgateCoreTests", dependencies: ["TollgateCore"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "GuardrailsTests", dependencies: ["Guardrails", "TollgateCore"]),
        .testTarget(name: "WAFTests", dependencies: ["WAF", "Config"]),
        .testTarget(name: "SharedStateTests", dependencies: ["SharedState", "CTollgate", "TollgateTesting"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor"]),
        .testTarget(
            name: "ControllerTests",
            dependencies: ["Controller", "QuotaCluster", "Config", "SharedState", "TollgateTesting",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "_CryptoExtras", package: "swift-crypto")]
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "Config", "Guardrails",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MockProviderTests",
            dependencies: [
                "MockProvider", "TollgateTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: ["ControlPlane", "ControlPlaneStore", "Config", "TollgateTesting", "Controller", "SharedState",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "LiveTests", dependencies: ["TollgateTesting", "SharedState"], exclude: ["sdk"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (Fuzz/, docs/fuzzing.md), only when TOLLGATE_FUZZ=1: `make fuzz` builds them
// with -sanitize=fuzzer,address into .build-fuzz, so the normal build and `make test` never
// compile them. Each is an executable whose `LLVMFuzzerTestOneInput` is driven by libFuzzer
// (`LLVMFuzzerRunDriver`, from its main.swift: SwiftPM gives every executable its own main).
if ProcessInfo.processInfo.environment["TOLLGATE_FUZZ"] == "1" {
    package.targets.append(.target(name: "CLibFuzzer", path: "Fuzz/Sources/CLibFuzzer"))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CLibFuzzer", "TollgateCore"], path: "Fuzz/Sources/FuzzSupport"))
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("fuzz-json", []),
        ("fuzz-sse", ["Worker"]),
        ("fuzz-eventstream", []),
        ("fuzz-requests", ["Worker", "Guardrails", "WAF"]),
        ("fuzz-responses", ["Worker", "Guardrails"]),
        ("fuzz-guardrails", ["Guardrails"]),
        ("fuzz-snapshot", ["Config", "Worker", .product(name: "Crypto", package: "swift-crypto")]),
    ]
    for t in fuzzTargets {
        package.targets.append(.executableTarget(
            name: t.name, dependencies: t.dependencies + ["FuzzSupport", "TollgateCore"],
            path: "Fuzz/Sources/\(t.name)"))
    }
}
