/** The record of every call the simulator answered, against which billing is checked. */
package llmq.modelsim.audit;
