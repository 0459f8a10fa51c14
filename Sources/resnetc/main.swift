import Driver
import Foundation

exit(Driver.run(Array(CommandLine.arguments.dropFirst())))
