package cutover

// DuplicateCounts is, for a test migration's workbook, how many rows were
// merged into another record (by a shared dedupe key) and how many records
// were kept apart although they share a dedupe key with a record of
// another source id: the coordinator sees both before signing off.
type DuplicateCounts struct {
	Merged   int `json:"merged" dynamodbav:"merged"`
	Possible int `json:"possible" dynamodbav:"possible"`
}
