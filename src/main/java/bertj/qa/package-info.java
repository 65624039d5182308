/**
 * <b>API:</b> {@link bertj.qa.QuestionAnswerer} (extractive question answering with a SQuAD fine-tuned checkpoint, as
 * NVIDIA's run_squad.py decodes it), {@link bertj.qa.Answer}, {@link bertj.qa.QaSettings}, {@link bertj.qa.Passage},
 * {@link bertj.qa.SquadData} (SQuAD v1.1 files) and {@link bertj.qa.SquadEvaluation} (the official EM/F1).
 * <b>Internal</b> (public for other bertj packages, may change): Feature, Features, Batches, SpanDecoder.
 */
package bertj.qa;
