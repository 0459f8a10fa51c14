import Driver
import Foundation

Driver.installSignalHandlers()
exit(Driver.run(Array(CommandLine.arguments.dropFirst())))
