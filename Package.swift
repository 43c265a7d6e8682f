// swift-tools-version: 6.1
// creditsync — federated synchronization of Jiangxi public credit information.
//
// Module map (each folder under Sources/ is one module):
//   CreditCore    pure domain: identifiers, catalog, records, classification, calendar. No I/O.
//   CreditData    the reference data the product ships (catalog, calendars, division codes) and
//                 the loaders that read it, plus operator overlays, from disk.
//   SyncProtocol  the wire protocol: changes, signed change sets, receipts, Merkle log, keys.
//   SyncTransport the node–hub transport: the interface, and its HTTP implementation.
//   CreditStorage what both stores share: SQLite opened WAL with synchronous=FULL, the checkpointer,
//                 group commit, the hot-path statement binder, workers that yield to the writer,
//                 payloads compressed at rest (zstd, through the CZstd system library).
//   CreditNode    the node daemon: store, provider API, pusher, receiver.
//   CreditHub     the hub daemon: registry, ingest, merge, fan-out, deadlines, operator views.
//   CreditDeploy  deployment layouts (deploy init) and the local federation (demo).
//   creditsync    the one thin executable; one file per subcommand.
//   creditsync-bench  micro-benchmarks, run in release: swift run -c release creditsync-bench
//   CreditTesting helpers shared by the test targets (vector loading, fixtures).
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "creditsync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "creditsync", targets: ["creditsync"]),
        .library(name: "CreditCore", targets: ["CreditCore"]),
        .library(name: "SyncProtocol", targets: ["SyncProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit", from: "6.4.0"),
    ],
    targets: [
        .target(name: "CreditCore", swiftSettings: strict),
        .target(
            name: "CreditData",
            dependencies: ["CreditCore"],
            resources: [.copy("Data")],
            swiftSettings: strict
        ),
        .target(
            name: "SyncProtocol",
            dependencies: [
                "CreditCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SyncTransport",
            dependencies: [
                "SyncProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CSimDisk",
            dependencies: [.product(name: "GRDBSQLite", package: "GRDB.swift")],
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        // Zstandard from Debian's libzstd-dev (Scripts/bootstrap installs it): its header is in
        // /usr/include and the module map links it, so no pkg-config is needed.
        .systemLibrary(name: "CZstd"),
        .target(
            name: "CreditStorage",
            dependencies: [
                "CreditCore", "CSimDisk", "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CreditNode",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol", "SyncTransport", "CreditStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CreditHub",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol", "SyncTransport", "CreditStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CreditDeploy",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol", "CreditStorage", "CreditNode", "CreditHub",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CreditSimulation",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol", "SyncTransport", "CreditStorage", "CreditNode", "CreditHub", "CreditDeploy",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "creditsync",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol", "SyncTransport", "CreditStorage", "CreditNode", "CreditHub", "CreditDeploy",
                "CreditSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            name: "CreditTesting",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol", "SyncTransport", "CreditStorage", "CreditNode", "CreditHub", "CreditDeploy",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "creditsync-bench",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol", "CreditNode", "CreditHub", "CreditDeploy", "CreditStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // libFuzzer targets for every parser of outside bytes (README, "Fuzzing"); a replayer when built plainly.
        .executableTarget(
            name: "creditsync-fuzz",
            dependencies: ["CreditCore", "CreditData", "SyncProtocol"],
            swiftSettings: strict
        ),
        .testTarget(name: "CreditCoreTests", dependencies: ["CreditCore", "CreditData", "CreditTesting"], swiftSettings: strict),
        .testTarget(name: "CreditDataTests", dependencies: ["CreditCore", "CreditData", "CreditTesting"], swiftSettings: strict),
        .testTarget(name: "CreditStorageTests", dependencies: [
            "CreditStorage", .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: strict),
        .testTarget(name: "SyncProtocolTests", dependencies: ["SyncProtocol", "SyncTransport", "CreditTesting"], swiftSettings: strict),
        .testTarget(name: "CreditNodeTests", dependencies: [
            "CreditNode", "CreditStorage", "CreditTesting", .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "OpenAPIKit", package: "OpenAPIKit"), .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: strict),
        .testTarget(name: "CreditHubTests", dependencies: [
            "CreditDeploy", "CreditHub", "CreditNode", "CreditTesting", .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: [
            "CreditDeploy", "CreditHub", "CreditNode", "CreditStorage", "CreditTesting",
        ], swiftSettings: strict),
        .testTarget(name: "CreditSimulationTests", dependencies: ["CreditSimulation"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["creditsync", "CreditDeploy", "CreditHub", "CreditNode", "CreditStorage", "CreditTesting",
                                                .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
