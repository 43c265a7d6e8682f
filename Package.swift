// swift-tools-version: 6.1
// creditsync — federated synchronization of Jiangxi public credit information.
//
// Module map (each folder under Sources/ is one module):
//   CreditCore    pure domain: identifiers, catalog, records, classification, calendar. No I/O.
//   CreditData    the reference data the product ships (catalog, calendars, division codes) and
//                 the loaders that read it, plus operator overlays, from disk.
//   SyncProtocol  the wire protocol: changes, signed change sets, receipts, Merkle log, keys.
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
        .executableTarget(
            name: "creditsync",
            dependencies: [
                "CreditCore", "CreditData", "SyncProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            name: "CreditTesting",
            dependencies: ["CreditCore", "CreditData", "SyncProtocol"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "creditsync-bench",
            dependencies: ["CreditCore", "CreditData", "SyncProtocol"],
            swiftSettings: strict
        ),
        .testTarget(name: "CreditCoreTests", dependencies: ["CreditCore", "CreditData", "CreditTesting"], swiftSettings: strict),
        .testTarget(name: "CreditDataTests", dependencies: ["CreditCore", "CreditData", "CreditTesting"], swiftSettings: strict),
        .testTarget(name: "SyncProtocolTests", dependencies: ["SyncProtocol", "CreditTesting"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["creditsync", "CreditTesting"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
