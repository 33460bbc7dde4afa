package cutover

// EntryIdentity is what a signed-off mapping entry was built for, recorded
// when the test round is mapped (an artifact beside the round's workbook,
// not on the migration, whose item size is bounded): its test table's normalised header
// signature, its entity and the export format (preset) detected. The final
// extract's tables are matched to entries by this identity, never by file
// name or by "the first entry whose columns fit": a renamed final file must
// still be read with the mapping the customer edited and the coordinator
// approved for it.
type EntryIdentity struct {
	Entry     string `json:"entry" dynamodbav:"entry"`         // the mapping's file entry (the test table's name)
	FileName  string `json:"fileName" dynamodbav:"fileName"`   // the test file's name, for messages
	Signature string `json:"signature" dynamodbav:"signature"` // hash of the normalised header (see migration.HeaderSignature)
	Columns   int    `json:"columns" dynamodbav:"columns"`     // how many columns the header has
	Entity    string `json:"entity" dynamodbav:"entity"`
	Preset    string `json:"preset,omitempty" dynamodbav:"preset,omitempty"`
	Version   int    `json:"mappingVersion" dynamodbav:"mappingVersion"` // the mapping version it was recorded with
}
