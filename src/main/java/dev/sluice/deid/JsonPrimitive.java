package dev.sluice.deid;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.IntegerType;

/** How FHIR JSON writes a primitive value: as a JSON boolean, a JSON number or a string. Both writers use it. */
enum JsonPrimitive {
    BOOLEAN, NUMBER, STRING;

    static JsonPrimitive of(Base value) {
        if (value instanceof BooleanType) {
            return BOOLEAN;
        }
        // positiveInt and unsignedInt are IntegerTypes too
        return value instanceof IntegerType || value instanceof DecimalType ? NUMBER : STRING;
    }

    void write(JsonGenerator g, String text) throws IOException {
        switch (this) {
            case BOOLEAN -> g.writeBoolean(Boolean.parseBoolean(text));
            case NUMBER -> g.writeNumber(text);
            case STRING -> g.writeString(text);
        }
    }

    /**
     * Whether the model engine writes a JSON number of this FHIR type as the input has it, so that the walk may copy
     * it. HAPI writes an integer back from its int value ({@code -0} as {@code 0}, {@code 1e3} as {@code 1000}); so
     * the walk copies numbers in plain notation only: no exponent, no negative zero, and for an integer type no
     * fraction and at most 9 digits. Anything else is left to the model engine.
     */
    static boolean writtenAsRead(String fhirType, byte[] json, int start, int end) {
        int digits = json[start] == '-' ? start + 1 : start;
        boolean fraction = false;
        boolean zero = true;
        for (int i = digits; i < end; i++) {
            byte b = json[i];
            if (b == '.') {
                fraction = true;
            } else if (b < '0' || b > '9') {
                return false; // an exponent
            } else {
                zero &= b == '0';
            }
        }
        if (digits > start && zero) {
            return false;
        }
        return "decimal".equals(fhirType) || !fraction && end - digits <= 9;
    }

    /** The suffix of a choice element's JSON name ({@code valueQuantity}) for a value of this FHIR type. */
    static String choiceSuffix(String fhirType) {
        String type = fhirType.equals("SimpleQuantity") || fhirType.equals("MoneyQuantity") ? "Quantity" : fhirType;
        return Character.toUpperCase(type.charAt(0)) + type.substring(1);
    }
}
