// Package engine is the application services that read and map rows: the
// Map step (Mapper) and the TestMigrate step (TestRun), the final migration with its
// pre-flight (Final), and the customer's actions that read the uploaded
// rows (Customer: completing an upload, file formats, the proposed and
// saved mapping, the workbook, the final extract's matches, pre-flight and
// report). They build on package migration's Core and link the mapping
// engine (mapspec, presets, pipeline, pass, workbook, delta); only the
// Lambdas that map rows link this package. Their ports are in ports.go.
package engine

import (
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/tabular"
)

// base is what every service here shares: the core and the stored files.
type base struct {
	*migration.Core
	files Files

	// ReadLimits bound what reading one uploaded XLSX workbook may cost
	// in this Lambda (tabular.XLSXLimitsForMemory of its memory); the
	// zero value takes tabular's defaults, which suit a laptop. Every
	// service here reads files, so each carries it.
	ReadLimits tabular.XLSXLimits
}

func newBase(name string, core *migration.Core, mail bool, files Files) (base, error) {
	if err := migration.NeedsCore(name, core, mail); err != nil {
		return base{}, err
	}
	if files == nil {
		return base{}, migration.NilPort(name, "Files")
	}
	return base{Core: core, files: files}, nil
}

// TestRun is the TestMigrate step: it resets the TEST environment and
// migrates the round's test extract into it in chunks, through dest (its
// TEST target), then reads dest back.
type TestRun struct {
	base
	test       TestEnv
	dest       cutover.Destination
	chunks     TestChunks
	chunkBytes int64
	chunking   Chunking
	// compareBytes is TestConfig.CompareBytes, defaulted.
	compareBytes int64
}

// NewTestRun returns the TestMigrate step: test resets the TEST records,
// dest receives them, chunks keeps the rounds' chunks.
//
// Errors: EINTERNAL when a port is nil.
func NewTestRun(core *migration.Core, files Files, test TestEnv, dest cutover.Destination, chunks TestChunks, cfg TestConfig) (*TestRun, error) {
	const name = "the TestMigrate step"
	b, err := newBase(name, core, false, files)
	if err != nil {
		return nil, err
	}
	switch {
	case test == nil:
		return nil, migration.NilPort(name, "TestEnv")
	case dest == nil:
		return nil, migration.NilPort(name, "Destination")
	case chunks == nil:
		return nil, migration.NilPort(name, "TestChunks")
	}
	if cfg.CompareBytes <= 0 {
		cfg.CompareBytes = DefaultCompareBytes
	}
	return &TestRun{base: b, test: test, dest: dest, chunks: chunks, chunkBytes: cfg.ChunkBytes, chunking: cfg.Chunking, compareBytes: cfg.CompareBytes}, nil
}

// Mapper is the Map step: it profiles the round's files and builds the
// mapping; it writes no records.
type Mapper struct {
	base
}

// NewMapper returns the Map step.
//
// Errors: EINTERNAL when a port is nil.
func NewMapper(core *migration.Core, files Files) (*Mapper, error) {
	b, err := newBase("the Map step", core, false, files)
	if err != nil {
		return nil, err
	}
	return &Mapper{base: b}, nil
}

// FinalConfig is the final migration's settings.
type FinalConfig struct {
	// ChunkBytes is how much of a final file one chunk reads; 0 means
	// DefaultChunkBytes.
	ChunkBytes int64
	// Thresholds are how far a final extract may differ from the
	// signed-off test migration before its pre-flight holds go-live; nil
	// means cutover.DefaultThresholds.
	Thresholds *cutover.Thresholds
	// Chunking is how the state machine runs the planned chunks (the
	// Distributed Map's concurrency and tolerated failure).
	Chunking Chunking
	// CompareBytes is how much snapshot one key range of the comparison
	// reads (compare.go); 0 means DefaultCompareBytes.
	CompareBytes int64
}

// Final is the final migration: pre-flight, plan, chunks, finish.
type Final struct {
	base
	dest       cutover.Destination // LIVE records go to its LIVE target
	chunks     migration.ChunkStore
	chunkBytes int64
	limits     *cutover.Thresholds
	chunking   Chunking
	// compareBytes is FinalConfig.CompareBytes, defaulted.
	compareBytes int64
}

// NewFinal returns the final migration; core must mail (the pre-flight
// tells the customer when it holds go-live).
//
// Errors: EINTERNAL when a port is nil or core cannot mail.
func NewFinal(core *migration.Core, files Files, dest cutover.Destination, chunks migration.ChunkStore, cfg FinalConfig) (*Final, error) {
	const name = "the final migration"
	b, err := newBase(name, core, true, files)
	if err != nil {
		return nil, err
	}
	if dest == nil {
		return nil, migration.NilPort(name, "Destination")
	}
	if chunks == nil {
		return nil, migration.NilPort(name, "ChunkStore")
	}
	if cfg.CompareBytes <= 0 {
		cfg.CompareBytes = DefaultCompareBytes
	}
	return &Final{base: b, dest: dest, chunks: chunks, chunkBytes: cfg.ChunkBytes, limits: cfg.Thresholds, chunking: cfg.Chunking, compareBytes: cfg.CompareBytes}, nil
}

// Customer is the customer's actions that read the uploaded rows; the
// others are migration.Customer's.
type Customer struct {
	base
	uploads   migration.Uploads
	downloads Downloads
	flow      migration.Flow
}

// NewCustomer returns the customer's row-reading actions; core must mail
// (a scheduled go-live is confirmed by mail).
//
// Errors: EINTERNAL when a port is nil or core cannot mail.
func NewCustomer(core *migration.Core, uploads migration.Uploads, files Files, downloads Downloads, flow migration.Flow) (*Customer, error) {
	const name = "the customer's mapping service"
	b, err := newBase(name, core, true, files)
	if err != nil {
		return nil, err
	}
	switch {
	case uploads == nil:
		return nil, migration.NilPort(name, "Uploads")
	case downloads == nil:
		return nil, migration.NilPort(name, "Downloads")
	case flow == nil:
		return nil, migration.NilPort(name, "Flow")
	}
	return &Customer{base: b, uploads: uploads, downloads: downloads, flow: flow}, nil
}
