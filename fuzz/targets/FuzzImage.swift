import Formats

/// libFuzzer entry: any bytes as an image must decode or be refused, and a decoded image must
/// preprocess into an input of any size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if let image = try? ResnetcImage.decode(bytes) {
    precondition(image.rgb.count == image.width * image.height * 3, "pixels do not match the size")
    if image.width * image.height <= 1 << 20 {
      let values = try? ResnetcPreprocess.input(image, mode: .imagenet, name: "x", shape: [1, 3, 17, 23])
      precondition(values?.count == 3 * 17 * 23, "the input has the wrong size")
    }
  }
  return 0
}
