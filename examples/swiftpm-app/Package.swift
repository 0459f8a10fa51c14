// swift-tools-version: 6.0
import PackageDescription

// An app that classifies with a model compiled by resnetc at build time: the target holds
// resnet20.resnetc.json, resnetc's build plugin turns it into ResNet20Model (Swift source)
// and ResNet20Model.weights (a resource of the target).
let package = Package(
  name: "swiftpm-app",
  dependencies: [.package(name: "resnetc", path: "../..")],
  targets: [
    .executableTarget(
      name: "Classify",
      plugins: [.plugin(name: "ResnetcModelPlugin", package: "resnetc")])
  ]
)
