/** <b>Internal:</b> the {@code bertj} command line (picocli). Not part of the library's API. */
package bertj.cli;
