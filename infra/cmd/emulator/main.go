// Command emulator builds the local AWS emulator (kumo, with the Step
// Functions patch described in infra/emulator) into .build/kumo. `make test`
// runs it once before the tests, so that test packages running in parallel
// find the build cached instead of compiling kumo side by side.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/infra/emulator"
)

func main() {
	root, err := os.Getwd()
	if err == nil {
		err = emulator.Build(context.Background(), root, filepath.Join(root, ".build", "kumo"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
}
